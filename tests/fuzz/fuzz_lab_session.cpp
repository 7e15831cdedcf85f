// Fuzzes a lab host's whole session in memory: the one server session with
// the lab's host policy (verdicts, trick spellings seen on the raw MAIL/RCPT
// line, greylisting, reply texts) and its sink (ledger, relayed and bounced
// mail), for the behaviour the first input byte picks; the rest is what a
// client sends, all at once. The session must end, write only well-formed
// replies, record in the ledger exactly the messages it answered "queued
// as", pass on only what its behaviour passes on (relays and tricks relay,
// a bouncing host bounces, the rest keep or drop), never put CR or LF into
// an address it hands on, and never touch memory it should not (ASan).
// Seeds (corpus/lab_session): the smtpd dialogue files' client lines, each
// behind a few behaviours' bytes, and one trick spelling per trick host.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_replies.hpp"
#include "lab/host_policy.hpp"
#include "lab/host_sink.hpp"
#include "lab/ledger.hpp"
#include "smtpd/dialogue.hpp"

using namespace relayscope;
using lab::Behaviour;

namespace {

// The behaviours that hold an SMTP dialogue on the session (not the scripted
// ones, nor those whose difference is only in the pacing of bytes). The
// first input byte picks one, modulo their number: keep the order, the
// seeds' first bytes index it.
constexpr Behaviour behaviours[] = {
    Behaviour::relay_denied,                   // 0
    Behaviour::relay,                          // 1
    Behaviour::accept_drop,                    // 2
    Behaviour::bounce,                         // 3
    Behaviour::greylist,                       // 4
    Behaviour::helo_only,                      // 5
    Behaviour::greeting_554,                   // 6
    Behaviour::mail_rejected,                  // 7
    Behaviour::data_rejected,                  // 8
    Behaviour::message_rejected,               // 9
    Behaviour::message_tempfail,               // 10
    Behaviour::quit_error,                     // 11
    Behaviour::reset_mid,                      // 12
    Behaviour::thousand_lines,                 // 13
    Behaviour::trick_percent_hack,             // 14
    Behaviour::trick_bang_path,                // 15
    Behaviour::trick_quoted_local,             // 16
    Behaviour::trick_source_route,             // 17
    Behaviour::trick_address_literal,          // 18
    Behaviour::trick_null_sender,              // 19
    Behaviour::trick_spoofed_local_sender,     // 20
    Behaviour::trick_upper_case_domain,        // 21
    Behaviour::trick_trailing_dot_domain,      // 22
    Behaviour::trick_unqualified_sender,       // 23
    Behaviour::trick_sender_localhost,         // 24
    Behaviour::trick_sender_equals_recipient,  // 25
    Behaviour::trick_trailing_at,              // 26
    Behaviour::trick_double_at,                // 27
    Behaviour::trick_sender_at_literal,        // 28
    Behaviour::trick_after_failed_auth,        // 29
};

// One host of the given behaviour at local.test (as the lab's dialogue
// tests build it), small limits so that short inputs reach them.
std::shared_ptr<lab::SessionHub> hub_of(Behaviour b) {
  auto plan = std::make_shared<lab::LabPlan>();
  plan->seed = 7;
  plan->domains.push_back({"local.test", true, lab::Unresolved::nxdomain, 0, 0});
  lab::PlannedHost host;
  host.ip = (127u << 24) | (1u << 16) | 1u;
  host.behaviour = b;
  plan->hosts.push_back(host);
  auto hub = std::make_shared<lab::SessionHub>();
  hub->plan = plan;
  hub->ledger = std::make_shared<lab::Ledger>();
  hub->started = std::chrono::steady_clock::now();
  hub->limits.max_line = 512;
  hub->limits.max_message = 4096;
  hub->limits.max_recipients = 3;
  hub->limits.max_errors = 20;
  return hub;
}

bool has_line_break(const std::string& s) {
  return s.find('\r') != std::string::npos || s.find('\n') != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto b = behaviours[data[0] % std::size(behaviours)];
  auto hub = hub_of(b);
  std::vector<lab::OutboundJob> sent;
  hub->send_out = [&sent](lab::OutboundJob job) { sent.push_back(std::move(job)); };
  asio::io_context io;  // the host's pacing timer (no pause: the hub's delays are 0)
  lab::HostContext ctx(*hub, 0, io.get_executor());
  ctx.client_address = "192.0.2.7";
  lab::HostPolicy policy(ctx, [] {});
  lab::HostSink sink(ctx);
  auto settings = lab::host_settings(ctx, &policy);
  settings.data_chunk = 64;  // many chunks from small inputs

  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto out = smtpd::run_session_on_bytes(in, settings, policy, sink);

  FUZZ_CHECK(out.rfind("220", 0) == 0 || out.rfind("554", 0) == 0);
  FUZZ_CHECK(well_formed(out));
  // Taken exactly when the client was told so.
  const auto queued = count(out, "\r\n250 2.0.0 Ok: queued as ");
  FUZZ_CHECK(hub->ledger->count(lab::EventKind::accepted) == queued);
  const bool relays = b == Behaviour::relay || lab::is_trick(b);
  for (const auto& job : sent) {
    FUZZ_CHECK(job.host == 0);
    FUZZ_CHECK(!has_line_break(job.mail_from) && !has_line_break(job.recipient));
    if (relays) FUZZ_CHECK(job.kind == lab::OutboundJob::Kind::relay);
    if (b == Behaviour::bounce) FUZZ_CHECK(job.kind == lab::OutboundJob::Kind::bounce);
  }
  if (!relays && b != Behaviour::bounce) FUZZ_CHECK(sent.empty());
  if (b == Behaviour::bounce) FUZZ_CHECK(sent.size() <= queued);  // one DSN a message at most
  if (relays) FUZZ_CHECK(sent.size() <= queued * settings.max_recipients);
  return 0;
}
