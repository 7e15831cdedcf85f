// Fuzzes EHLO keyword parsing, from a parsed reply and from raw lines.
// Invariants: keywords upper-case and grammatical, accessors never crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/ehlo.hpp"

using namespace relayscope::smtp;

namespace {

void check(const EhloInfo& info) {
  for (const auto& e : info.extensions) {
    FUZZ_CHECK(!e.keyword.empty());
    for (char c : e.keyword) {
      FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-');
    }
    FUZZ_CHECK(e.keyword[0] != '-');
    FUZZ_CHECK(info.has(e.keyword));
    for (const auto& p : e.params) FUZZ_CHECK(!p.empty());
  }
  (void)info.size_limit();
  (void)info.starttls();
  (void)info.pipelining();
  for (const auto& m : info.auth_mechanisms()) FUZZ_CHECK(!m.empty());
  if (auto n = info.size_limit()) FUZZ_CHECK(*n > 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto r = parse_reply(in)) check(parse_ehlo(*r));
  // Raw lines, as if any reply text got through.
  Reply raw;
  raw.code = 250;
  std::size_t pos = 0;
  while (pos < in.size() && raw.lines.size() < 512) {
    auto nl = in.find('\n', pos);
    raw.lines.emplace_back(
        in.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? in.size() : nl + 1;
  }
  check(parse_ehlo(raw));
  return 0;
}
