// See host_sink.hpp. The host takes responsibility (ledger, outbox) before it
// says 250. Paths are decoded again from the envelope as the session kept
// them (tricks.hpp), so a spelling relays to where an old MTA would send it.
#include "lab/host_sink.hpp"

#include <ctime>

#include "lab/dsn.hpp"

namespace relayscope::lab {

namespace {

using smtp::make_reply;

class HostWriter final : public smtpd::MessageWriter {
 public:
  HostWriter(HostSink& sink, smtpd::ClientInfo client, smtpd::Envelope envelope)
      : sink_(sink), client_(std::move(client)), envelope_(std::move(envelope)) {}

  asio::awaitable<bool> write(std::string chunk) override {
    message_ += chunk;  // bounded by the session's max_message_size
    co_return true;
  }
  asio::awaitable<smtp::Reply> commit() override {
    auto& ctx = sink_.context();
    if (ctx.behaviour == Behaviour::message_rejected) {
      co_return make_reply(554, "5.6.0 Message rejected: content refused");
    }
    if (ctx.behaviour == Behaviour::message_tempfail) {
      co_return make_reply(451, "4.3.0 Temporary failure in processing; try again later");
    }
    auto id = ctx.next_id();
    sink_.dispatch(client_, envelope_, message_);
    co_return make_reply(250, "2.0.0 Ok: queued as " + id);
  }
  asio::awaitable<void> abort() override {
    message_.clear();
    co_return;
  }

 private:
  HostSink& sink_;
  smtpd::ClientInfo client_;
  smtpd::Envelope envelope_;
  std::string message_;
};

// A path as the session kept it: a bare mailbox (parsed), or the text after
// the colon of a raw MAIL/RCPT line a trick host took ("<T@D@> SIZE=9").
std::optional<DecodedPath> decode_stored(std::string_view text, const HostIdentity& self) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (text.empty()) return decode_path("<>", self);
  if (text.front() != '<') return decode_path(text, self);
  auto raw = raw_path_of(":" + std::string(text));
  return raw ? decode_path(*raw, self) : std::nullopt;
}

}  // namespace

asio::awaitable<std::unique_ptr<smtpd::MessageWriter>> HostSink::open(
    const smtpd::ClientInfo& client, const smtpd::Envelope& envelope) {
  co_return std::make_unique<HostWriter>(*this, client, envelope);
}

void HostSink::dispatch(const smtpd::ClientInfo& client, const smtpd::Envelope& envelope,
                        const std::string& message) {
  auto& ledger = *ctx_.hub.ledger;
  const auto b = ctx_.behaviour;
  const auto host = ctx_.host;
  const auto& self = ctx_.self;
  auto decoded_sender = decode_stored(envelope.mail_from, self);
  const std::string sender =
      !decoded_sender || decoded_sender->null ? std::string() : decoded_sender->mailbox();
  struct Rcpt {
    std::string address;  // decoded: where it really goes
    bool local = false;
  };
  std::vector<Rcpt> rcpts;
  for (const auto& r : envelope.recipients) {
    auto d = decode_stored(r, self);
    if (!d) continue;
    rcpts.push_back({d->mailbox(), d->domain.empty() || self.is_self(d->domain)});
  }
  const std::string token = token_of(sender);
  const auto fate = info(b).fate;
  ledger.record(host, {EventKind::accepted,
                       token,
                       {},
                       rcpts.empty() ? "" : rcpts[0].address,
                       "from <" + sender + ">",
                       ctx_.now_ms()});
  const auto helo = envelope.helo.substr(0, envelope.helo.find(' '));
  bool bounced = false;
  for (const auto& r : rcpts) {
    if (r.local) {
      ledger.record(host, {EventKind::local, token, {}, r.address, "local mailbox", ctx_.now_ms()});
      continue;
    }
    ReceivedFields rf{helo,      client.address, self.name,         ctx_.next_id(),
                      r.address, envelope.esmtp, std::time(nullptr)};
    std::string with_trace = received_header(rf) + message;
    if (b == Behaviour::relay || is_trick(b)) {
      OutboundJob job;
      job.kind = OutboundJob::Kind::relay;
      job.host = host;
      // An unqualified sender is qualified with the host's name, as MTAs do.
      job.mail_from = sender.empty() || sender.find('@') != std::string::npos
                          ? sender
                          : sender + "@" + self.name;
      job.recipient = r.address;
      job.message = std::move(with_trace);
      job.token = token;
      job.trick = is_trick(b) ? info(b).name : "";
      ctx_.hub.send_out(std::move(job));
    } else if (fate == Fate::bounced && !bounced) {
      bounced = true;
      if (sender.empty()) {
        ledger.record(host, {EventKind::dropped,
                             token,
                             {},
                             r.address,
                             "null sender: no bounce is sent",
                             ctx_.now_ms()});
        continue;
      }
      DsnFields d;
      d.reporting_mta = self.name;
      d.postmaster = "MAILER-DAEMON@" + self.name;
      d.original_sender = sender;
      d.original_recipient = r.address;
      d.final_recipient = r.address;
      d.original_message = with_trace;
      d.boundary = ctx_.next_id() + "/" + self.name;
      d.message_id = "<" + ctx_.next_id() + ".dsn@" + self.name + ">";
      d.when = std::time(nullptr);
      OutboundJob job;
      job.kind = OutboundJob::Kind::bounce;
      job.host = host;
      job.mail_from = "";
      job.recipient = sender;
      job.message = build_dsn(d);
      job.token = token;
      ctx_.hub.send_out(std::move(job));
    } else if (fate != Fate::bounced) {
      ledger.record(
          host, {EventKind::dropped, token, {}, r.address, "accepted and dropped", ctx_.now_ms()});
    }
  }
}

}  // namespace relayscope::lab
