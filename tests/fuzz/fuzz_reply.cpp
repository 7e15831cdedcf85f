// Fuzzes the reply parser: line by line and whole, with small and default
// limits. Invariants: codes in range, status class matches, wire round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/reply.hpp"

using namespace relayscope::smtp;

namespace {

void check_reply(const Reply& r, const ReplyLimits& limits) {
  FUZZ_CHECK(r.code >= 200 && r.code <= 599);
  FUZZ_CHECK(!r.lines.empty() && r.lines.size() <= limits.max_lines);
  if (r.status) FUZZ_CHECK(r.status->klass == r.code / 100);
  bool clean = true;
  for (const auto& l : r.lines) {
    FUZZ_CHECK(l.empty() || l.size() + 4 <= limits.max_line_length);
    if (l.find('\r') != std::string::npos || l.find('\n') != std::string::npos) clean = false;
  }
  // A reply written back to the wire reads back the same.
  if (clean) {
    ReplyLimits roomy{limits.max_line_length + 4, limits.max_lines};
    auto again = parse_reply(r.wire(), roomy);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->code == r.code);
    FUZZ_CHECK(again->lines == r.lines);
    FUZZ_CHECK(again->status == r.status);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ReplyLimits limits;
  if (!in.empty() && in[0] == '!') {
    limits.max_line_length = 40;
    limits.max_lines = 4;
    in.remove_prefix(1);
  }
  ReplyParser parser(limits);
  std::size_t pos = 0;
  while (pos < in.size()) {
    auto nl = in.find('\n', pos);
    auto line = in.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? in.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto r = parser.feed_line(line);
    if (r && r->has_value()) check_reply(**r, limits);
    if (r) FUZZ_CHECK(!parser.in_progress());
  }
  auto whole = parse_reply(in, limits);
  if (whole) check_reply(*whole, limits);
  if (auto st = parse_enhanced_status(in)) {
    FUZZ_CHECK(st->klass == 2 || st->klass == 4 || st->klass == 5);
  }
  return 0;
}
