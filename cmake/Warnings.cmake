# One warning policy for every target of the project: warnings are errors.
add_library(relayscope_warnings INTERFACE)
target_compile_options(relayscope_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false positives in asio's and libstdc++'s headers under -O2
  # (PR 105651, 106199); they are not ours to fix.
  target_compile_options(relayscope_warnings INTERFACE
    -Wno-maybe-uninitialized -Wno-restrict -Wno-array-bounds -Wno-stringop-overflow
    -Wno-null-dereference -Wno-dangling-pointer -Wno-format-truncation)
endif()
