// The lab's sink on the one server session: where a message a lab host
// accepted goes, by the host's fate (behaviour.hpp). A relaying host (open
// or trick) hands it to the outbox for real delivery, a bouncing host sends
// a DSN to the sender through the outbox, a dropping host records the drop
// in the ledger; a local recipient is recorded as local. message_rejected
// and message_tempfail hosts refuse it after the final dot.
#pragma once

#include "lab/host_context.hpp"
#include "smtpd/session.hpp"

namespace relayscope::lab {

class HostSink final : public smtpd::MessageSink {
 public:
  explicit HostSink(HostContext& ctx) : ctx_(ctx) {}
  asio::awaitable<std::unique_ptr<smtpd::MessageWriter>> open(
      const smtpd::ClientInfo& client, const smtpd::Envelope& envelope) override;

  // Records the accepted message and hands on what goes further (pure of
  // the session: the envelope and the message, with its CRLF endings).
  void dispatch(const smtpd::ClientInfo& client, const smtpd::Envelope& envelope,
                const std::string& message);
  HostContext& context() { return ctx_; }

 private:
  HostContext& ctx_;
};

}  // namespace relayscope::lab
