// Fuzzes the command parser. Invariants: errors are replies ("5xx X.Y.Z ..."),
// accepted lines are 7-bit without NUL, MAIL/RCPT rebuilt from the parse
// parse again to the same command.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/command.hpp"

using namespace relayscope::smtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  bool lenient = (data[0] & 1) != 0;
  std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);
  auto c = parse_command(line, lenient);
  if (!c) {
    const std::string& m = c.error().message;
    FUZZ_CHECK(m.size() >= 10);
    FUZZ_CHECK(m[0] == '5' && m[3] == ' ' && m[5] == '.');
    FUZZ_CHECK(m.find('\r') == std::string::npos && m.find('\n') == std::string::npos);
    return 0;
  }
  for (char ch : line) {
    auto u = static_cast<unsigned char>(ch);
    FUZZ_CHECK(u != 0 && u < 0x80 && ch != '\r' && ch != '\n');
  }
  FUZZ_CHECK(c->verb != Verb::unknown);
  for (char ch : c->verb_text) FUZZ_CHECK(!(ch >= 'a' && ch <= 'z'));
  if (c->verb == Verb::mail || c->verb == Verb::rcpt) {
    std::string rebuilt = c->verb == Verb::mail ? "MAIL FROM:" : "RCPT TO:";
    rebuilt += c->path.wire();
    for (const auto& [k, v] : c->params) {
      FUZZ_CHECK(!k.empty());
      rebuilt += " " + k + (v.empty() ? "" : "=" + v);
    }
    auto again = parse_command(rebuilt, lenient);
    if (rebuilt.size() <= 2048 && c->path.wire().size() <= 256) {
      FUZZ_CHECK(again.has_value());
      FUZZ_CHECK(again->verb == c->verb);
      FUZZ_CHECK(again->path.wire() == c->path.wire());
      FUZZ_CHECK(again->params == c->params);
    }
  }
  if (c->verb == Verb::ehlo || c->verb == Verb::helo) FUZZ_CHECK(!c->argument.empty());
  return 0;
}
