# One precompiled header of asio for every target that uses it. Most of the
# project's translation units include asio (some 100,000 lines of headers,
# about 2 s of GCC's time each before a line of ours); parsing them once per
# build and loading the result (about 0.7 s) saves minutes of every build,
# and CI builds twice. The header is built by one target and reused by the
# others (REUSE_FROM), so a build holds one copy (GCC's is some 130 MB);
# the unit tests that use asio share a second one, with GoogleTest's header.
# GCC checks that a precompiled header fits the compiling unit (the same
# flags, the same definitions of the macros asio tests); CMake adds
# -Winvalid-pch, so a unit it does not fit fails the build (-Werror) instead
# of quietly parsing the headers again. RELAYSCOPE_PCH=OFF turns it off.
option(RELAYSCOPE_PCH "Precompile asio's headers once per build" ON)

# The standard headers go in too: asio includes most of them anyway. Not
# asio/ssl.hpp: its inline code would need OpenSSL in every user's link.
set(relayscope_pch_headers
  <asio.hpp> <asio/experimental/as_tuple.hpp>
  <asio/experimental/awaitable_operators.hpp>
  <algorithm> <chrono> <functional> <map> <memory> <optional> <string>
  <string_view> <utility> <vector>)

# True in `out` when `target` compiles with asio's usage requirements: it
# links relayscope_asio, or a target whose interface does (what a target
# links privately, or link-only, gives its users no compile flags).
function(_relayscope_links_asio target out)
  set(seen "")
  get_target_property(todo ${target} LINK_LIBRARIES)
  if(NOT todo)
    set(todo "")
  endif()
  while(todo)
    list(POP_FRONT todo t)
    if(t STREQUAL "relayscope_asio")
      set(${out} TRUE PARENT_SCOPE)
      return()
    endif()
    if(t MATCHES "^\\$<" OR NOT TARGET ${t} OR t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(iface ${t} INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND todo ${iface})
    endif()
  endwhile()
  set(${out} FALSE PARENT_SCOPE)
endfunction()

# Every target under `dir` (recursively) that links asio and compiles C++.
function(_relayscope_asio_targets dir out)
  set(found "")
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(NOT type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|EXECUTABLE|OBJECT_LIBRARY)$")
      continue()
    endif()
    if(t STREQUAL "relayscope_asio_pch")
      continue()
    endif()
    # A library whose usage flags define macros of its own (GMime's
    # _LARGEFILE64_SOURCE) makes the header unfit for its direct users.
    get_target_property(direct ${t} LINK_LIBRARIES)
    if(direct AND "PkgConfig::GMIME" IN_LIST direct)
      continue()
    endif()
    _relayscope_links_asio(${t} uses)
    if(uses)
      list(APPEND found ${t})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    _relayscope_asio_targets(${sub} more)
    list(APPEND found ${more})
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# Called once every target exists (at the end of the top CMakeLists.txt).
function(relayscope_apply_asio_pch)
  if(NOT RELAYSCOPE_PCH)
    return()
  endif()
  add_library(relayscope_asio_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/asio_pch.cpp)
  target_link_libraries(relayscope_asio_pch PRIVATE relayscope_asio relayscope_warnings)
  target_precompile_headers(relayscope_asio_pch PRIVATE ${relayscope_pch_headers})
  _relayscope_asio_targets(${PROJECT_SOURCE_DIR} targets)
  # The unit tests' own header, GoogleTest's (some 1.5 s of GCC's time per
  # test file under the sanitizers), goes into a second header for the test
  # executables that use asio: a target reuses one precompiled header only.
  set(tests "")
  foreach(t ${targets})
    get_target_property(direct ${t} LINK_LIBRARIES)
    if(direct AND "GTest::gtest_main" IN_LIST direct)
      list(APPEND tests ${t})
    else()
      target_precompile_headers(${t} REUSE_FROM relayscope_asio_pch)
    endif()
  endforeach()
  if(tests)
    add_library(relayscope_asio_gtest_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/asio_pch.cpp)
    target_link_libraries(relayscope_asio_gtest_pch PRIVATE relayscope_asio relayscope_warnings
                                                            GTest::gtest_main GTest::gmock)
    target_precompile_headers(relayscope_asio_gtest_pch PRIVATE ${relayscope_pch_headers}
                              <gtest/gtest.h>)
    foreach(t ${tests})
      target_precompile_headers(${t} REUSE_FROM relayscope_asio_gtest_pch)
    endforeach()
  endif()
  list(LENGTH targets n)
  list(LENGTH tests n_tests)
  message(STATUS "asio precompiled once for ${n} targets (with GoogleTest for ${n_tests} tests)")
endfunction()
