// Fuzzes the users file reader (users_file.cpp): the file an administrator
// (or a tool) writes, read at start and on SIGHUP. Invariants: it never
// throws; a file that loads has only valid names, and its own text() loads
// again to the same users.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "server/users_file.hpp"

using namespace relayscope::server;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto u = UsersFile::parse(in, "users");
  if (!u) {
    FUZZ_CHECK(!u.error().message.empty());
    return 0;
  }
  auto text = u->text();
  auto again = UsersFile::parse(text, "users");
  FUZZ_CHECK(again && again->size() == u->size() && again->text() == text);
  return 0;
}
