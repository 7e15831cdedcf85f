// Fuzzes the SASL exchange and base64: base64_decode(base64_encode(x)) == x;
// what decodes survives a round trip; the
// PLAIN/LOGIN state machine, fed the input's lines, ends in credentials or a
// typed refusal (a 5xx reply with an enhanced status) and never takes a line
// after it has ended.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "smtpd/sasl.hpp"

using namespace relayscope::smtpd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto back = base64_decode(base64_encode(in));
  FUZZ_CHECK(back && *back == in);
  // What decodes, decodes the same after a round trip (non-zero padding
  // bits are tolerated, as RFC 4648 3.5 allows).
  if (auto d = base64_decode(in)) {
    auto again = base64_decode(base64_encode(*d));
    FUZZ_CHECK(again && *again == *d);
  }

  // Lines: the first is the AUTH argument, the rest the client's answers.
  std::vector<std::string_view> lines;
  std::string_view rest = in;
  while (!rest.empty() && lines.size() < 8) {
    auto nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  if (lines.empty()) return 0;
  SaslExchange x;
  auto step = x.start(lines[0]);
  std::size_t i = 1;
  int challenges = 0;
  while (step.kind == SaslExchange::Kind::challenge && i < lines.size()) {
    ++challenges;
    FUZZ_CHECK(challenges <= 2);  // LOGIN asks twice at most, PLAIN once
    step = x.respond(lines[i++]);
  }
  if (step.kind == SaslExchange::Kind::refused) {
    FUZZ_CHECK(step.reply.code >= 500 && step.reply.code < 600);
    FUZZ_CHECK(step.reply.status.has_value());
  }
  if (step.kind != SaslExchange::Kind::challenge) {
    FUZZ_CHECK(x.respond("more").kind == SaslExchange::Kind::refused);
  }
  return 0;
}
