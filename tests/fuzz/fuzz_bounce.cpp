// Fuzzes the bounce reader (bounce_parser.cpp, on GMime) with any message a
// stranger may send to the collector. Invariants: it never throws or
// crashes, every token has the configured length and occurs in the input
// (possibly encoded: then only the length is checked), tokens are unique,
// and tokens_in_text only returns substrings of its text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "collect/bounce_parser.hpp"
#include "fuzz_check.hpp"

using namespace relayscope::collect;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const TokenSpec spec;  // the survey's (20-character tokens, as in the corpus)
  auto info = parse_bounce(in, spec);
  std::set<std::string> seen;
  for (const auto& t : info.tokens) {
    FUZZ_CHECK(t.size() == spec.token_length);
    FUZZ_CHECK(seen.insert(t).second);
  }
  if (!info.parsed) FUZZ_CHECK(!info.is_dsn && info.recipients.empty());
  for (const auto& r : info.recipients) {
    FUZZ_CHECK(std::none_of(r.action.begin(), r.action.end(),
                            [](char c) { return c >= 'A' && c <= 'Z'; }));
  }
  for (const auto& t : tokens_in_text(in, spec)) {
    FUZZ_CHECK(t.size() == spec.token_length);
    FUZZ_CHECK(in.find(t) != std::string_view::npos);
  }
  return 0;
}
