// Fuzzes the whole server session in memory: whatever a stranger sends (the
// input, all at once, then the end of input), the session must end, write
// only well-formed replies (3 digits, then '-' or ' ', then CRLF-ended text
// without CR or LF inside), keep no message that was not answered 250, and
// never touch memory it should not (ASan, UBSan). Seeded from the dialogue
// files' client lines (corpus/session).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_replies.hpp"
#include "smtpd/dialogue.hpp"

using namespace relayscope;

namespace {

class Policy final : public smtpd::SessionPolicy {
 public:
  std::optional<smtp::Reply> check_recipient(const smtpd::SessionView&,
                                             const smtp::Path& rcpt) override {
    if (rcpt.mailbox.host.text == "local.test") return std::nullopt;
    return smtp::make_reply(554, "5.7.1 Relaying denied");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smtpd::SessionSettings s;
  s.hostname = "mx.test";
  s.greet_pause = std::chrono::milliseconds(0);
  s.auth_answer_time = s.auth_jitter = s.auth_failure_delay = std::chrono::milliseconds(0);
  s.max_message_size = 4096;
  s.max_line_length = 512;
  s.data_chunk = 64;  // many chunks from small inputs
  s.max_recipients = 3;
  s.recipient_overshoot = 4;
  s.max_junk = 20;
  // Half the inputs may pipeline the message (as if authenticated), so the
  // fuzzer reaches DATA's insides from whole-dialogue seeds too.
  s.forbid_unauth_pipelining = size % 2 == 0;
  Policy policy;
  smtpd::MemorySink sink;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto out = smtpd::run_session_on_bytes(in, s, policy, sink);
  FUZZ_CHECK(out.rfind("220 ", 0) == 0);
  FUZZ_CHECK(well_formed(out));
  // A message is kept only when the client was told so.
  FUZZ_CHECK(sink.messages.size() == count(out, "\r\n250 2.0.0 Ok: kept as"));
  for (const auto& m : sink.messages) FUZZ_CHECK(m.size() <= s.max_message_size);
  return 0;
}
