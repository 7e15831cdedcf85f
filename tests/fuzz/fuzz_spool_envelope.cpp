// Fuzzes the spool's file formats (spool.cpp): the envelope at the head of
// each queue file, the .done records and the retry state, all read back
// from disk after a crash. Invariants: an envelope that parses is written
// back by format_envelope to text that parses to the same envelope and the
// same body; the head parser agrees with the whole-file parser; the retry
// state survives format_state/parse_state.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "server/spool_format.hpp"

using namespace relayscope::server;

namespace {

bool same(const SpoolEnvelope& a, const SpoolEnvelope& b) {
  return a.id == b.id && a.arrival == b.arrival && a.client == b.client && a.helo == b.helo &&
         a.auth_user == b.auth_user && a.mail_from == b.mail_from && a.recipients == b.recipients &&
         a.check == b.check;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t body = 0;
  auto e = parse_envelope(in, body);
  std::size_t head_body = 0;
  auto h = parse_envelope_head(in, size, head_body);
  FUZZ_CHECK(static_cast<bool>(e) == static_cast<bool>(h));
  if (e) {
    FUZZ_CHECK(body <= size && body == head_body && same(*e, *h));
    auto message = in.substr(body);
    auto again_text = format_envelope(*e, message.size()) + std::string(message);
    std::size_t again_body = 0;
    auto again = parse_envelope(again_text, again_body);
    FUZZ_CHECK(again && same(*e, *again));
    FUZZ_CHECK(std::string_view(again_text).substr(again_body) == message);
  }
  auto done = parse_done(in);
  for (const auto& [rcpt, why] : done) {
    FUZZ_CHECK(!rcpt.empty() && rcpt.find('\n') == std::string::npos);
    FUZZ_CHECK(why.find('\n') == std::string::npos);
  }
  auto st = parse_state(in);
  auto st2 = parse_state(format_state(st));
  FUZZ_CHECK(st2.attempts == st.attempts && st2.next_retry == st.next_retry);
  return 0;
}
