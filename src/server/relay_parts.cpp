// See relay_parts.hpp.
#include "server/relay_parts.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <utility>

#include "mail/received.hpp"
#include "server/log_lines.hpp"
#include "server/refusal_log.hpp"
#include "server/relay_metrics.hpp"
#include "smtp/printable.hpp"

namespace relayscope::server {

namespace {

constexpr std::size_t max_hops = 50;  // RFC 5321 6.3: a loop, most likely

}  // namespace

smtpd::SessionSettings session_settings(const Config& c) {
  smtpd::SessionSettings s;
  s.hostname = c.hostname;
  s.max_message_size = c.limits.max_message_size;
  s.max_recipients = c.limits.max_recipients;
  s.max_errors = c.limits.max_errors;
  s.max_line_length = c.limits.max_line_length;
  s.max_auth_failures = c.limits.max_auth_failures;
  s.command_timeout = c.timeouts.command;
  s.idle_timeout = c.timeouts.idle;
  s.data_timeout = c.timeouts.data;
  s.greet_pause = c.timeouts.greet_pause;
  s.auth_failure_delay = c.auth_failure_delay;
  // Every AUTH answered in the same time: above an argon2id check's cost.
  s.auth_answer_time = std::max(c.auth_failure_delay, std::chrono::milliseconds(1000));
  return s;
}

smtpd::SessionSettings listener_settings(const smtpd::SessionSettings& base,
                                         const ListenerConfig& l) {
  auto s = base;
  if (l.max_message_size) s.max_message_size = l.max_message_size;
  if (l.max_recipients) s.max_recipients = l.max_recipients;
  s.role = l.role;
  switch (l.role) {
    case ListenerRole::mx:
      break;
    case ListenerRole::submission:
      s.require_auth = true;
      s.greet_pause = std::chrono::milliseconds(0);  // mail clients, not spam engines
      break;
    case ListenerRole::submissions:
      s.require_auth = true;
      s.implicit_tls = true;
      s.greet_pause = std::chrono::milliseconds(0);  // the client speaks first (TLS)
      break;
  }
  return s;
}

asio::awaitable<std::optional<smtp::Reply>> RelaySessionPolicy::check_client(
    const ClientInfo& client) {
  relay_metrics::sessions().inc();  // called once per session, before its greeting
  if (!dnsbl_ || !client.ip) {
    co_return std::nullopt;
  }
  // Our own networks are never checked against a blocklist.
  if (policy_.is_local_client(*client.ip)) {
    co_return std::nullopt;
  }
  auto refusal = co_await dnsbl_->check(*client.ip);
  if (refusal) relay_metrics::refused("dnsbl").inc();
  co_return refusal;
}

std::optional<smtpd::Authorisation> RelaySessionPolicy::authorise(const SessionView& s) {
  if (!windows_ || !s.client.ip || s.client.role != smtpd::ListenerRole::mx) return std::nullopt;
  auto open = windows_->lookup(*s.client.ip, WallClock::now());
  if (open.empty()) return std::nullopt;
  smtpd::Authorisation a;
  a.how = "POP-before-SMTP window";
  WallClock::time_point latest{};
  for (const auto& w : open) {
    if (!w.user.empty() && (a.user.empty() || w.granted >= latest)) {
      a.user = w.user;
      latest = w.granted;
    }
  }
  return a;
}

std::optional<smtp::Reply> RelaySessionPolicy::check_recipient(const SessionView& s,
                                                               const smtp::Path& rcpt) {
  // Submission listeners (RFC 6409): only AUTH relays there, local networks
  // included (the session asks AUTH before MAIL; this holds if it did not).
  bool mx = s.client.role == smtpd::ListenerRole::mx;
  if (!mx && s.auth_user.empty()) return smtp::make_reply(530, "5.7.0 Authentication required");
  const IpAddress* ip = mx && s.client.ip ? &*s.client.ip : nullptr;
  auto verdict = policy_.judge(ip, s.authorised || !s.auth_user.empty(), rcpt);
  if (!verdict.accepted()) {
    spdlog::info("session {} client={} rcpt={} refused: {}", s.client.session_id, s.client.address,
                 rcpt.wire(), verdict.refusal->text());
    relay_metrics::refused("relay_denied").inc();
    return verdict.refusal;
  }
  if (rules_) {
    if (auto refusal = rules_->check_recipient(s, rcpt)) return refusal;
  }
  bool by_window = verdict.rule == RcptRule::authenticated && s.auth_user.empty();
  spdlog::debug("session {} client={} rcpt={} accepted: {}", s.client.session_id, s.client.address,
                rcpt.wire(), by_window ? "pop-before-smtp-window" : to_string(verdict.rule));
  return std::nullopt;
}

std::optional<smtp::Reply> RelaySessionPolicy::check_sender(const SessionView& s,
                                                            const smtp::Path& from) {
  if (rules_) return rules_->check_sender(s, from);
  return std::nullopt;
}

void RelaySessionPolicy::command_refused(const SessionView& s, const smtpd::CommandRefusal& r) {
  spdlog::info("{}", noqueue_line(s, r));
}

std::string received_header(const ClientInfo& client, const Envelope& envelope,
                            const std::string& hostname, const std::string& id) {
  std::string with = envelope.esmtp ? "ESMTP" : "SMTP";
  if (envelope.tls) {
    with += "S";
  }
  if (!envelope.auth_user.empty()) {
    with += "A";
  }
  // What the client chose (its EHLO name, the recipient) is made printable
  // and bounded, so that it can neither smuggle control characters into the
  // header nor push the line past RFC 5321's limit.
  return mail::received_header(
      {envelope.helo.empty() ? std::string() : smtp::printable(envelope.helo, 255), client.address,
       hostname, "relayscope", with, id,
       envelope.recipients.size() == 1 ? smtp::printable(envelope.recipients.front(), 320) : "",
       std::time(nullptr)});
}

void HopCounter::feed(std::string_view chunk) {
  for (char c : chunk) {
    if (done_) return;
    if (c == '\n') {
      // An empty line (or only its CR) ends the header section.
      if (prefix_.empty() || prefix_ == "\r") done_ = true;
      prefix_.clear();
      continue;
    }
    if (prefix_.size() < 9) {
      prefix_ += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (prefix_ == "received:") ++count_;
    }
  }
}

std::size_t count_received(std::string_view message) {
  HopCounter h;
  h.feed(message);
  return h.count();
}

namespace {

// A message up to this size stays in memory until its end and is written
// by the group commit's round in one step (Spool::commit_whole: no hand-off
// of its own to a worker thread, most mail is this small); past it, it
// streams into tmp/ piece by piece, so what a session holds stays bounded
// whatever the message's size. The session hands over a piece only once it
// reaches 64 KiB or the message ends (SessionSettings::data_chunk), so a
// message kept here is already complete: no session waits for its client
// while holding more than before.
constexpr std::size_t whole_message_max = 64 * 1024;

// One message on its way into the spool.
class SpoolWriter final : public MessageWriter {
 public:
  SpoolWriter(Spool& spool, QueueManager& queue, std::string received, SpoolEnvelope envelope,
              const ClientInfo& client, bool tls)
      : spool_(spool),
        queue_(queue),
        pending_(std::move(received)),
        env_(std::move(envelope)),
        client_(client),
        tls_(tls) {}

  asio::awaitable<bool> write(std::string chunk) override {
    hops_.feed(chunk);
    size_ += chunk.size();
    if (!incoming_ && pending_.size() + chunk.size() <= whole_message_max) {
      pending_ += chunk;
      co_return true;
    }
    if (!incoming_) {
      // Too long to keep: what came so far opens the file in tmp/.
      auto begun = co_await spool_.begin(env_, std::exchange(pending_, std::string()));
      if (!begun) {
        spdlog::error("{}: spool: {}", env_.id, begun.error().message);
        co_return false;
      }
      incoming_ = std::move(*begun);
    }
    auto s = co_await spool_.append(incoming_, std::move(chunk));
    if (!s) spdlog::error("{}: spool: {}", env_.id, s.error().message);
    co_return static_cast<bool>(s);
  }

  asio::awaitable<smtp::Reply> commit() override {
    if (hops_.count() > max_hops) {
      spdlog::warn("session {} client={} message refused: too many Received: headers",
                   client_.session_id, client_.address);
      co_await abort();
      relay_metrics::refused("mail_loop").inc();
      co_return smtp::make_reply(554, "5.4.6 Too many hops: a mail loop?");
    }
    Expected<std::string> stored = make_error("not stored");
    std::shared_ptr<const SpoolMessage> at_hand;  // a small message, for its first attempt
    if (incoming_) {
      stored = co_await spool_.commit(incoming_);
    } else {
      at_hand = SpoolMessage::from_text(pending_);
      stored = co_await spool_.commit_whole(env_, std::exchange(pending_, std::string()));
    }
    std::string to;
    for (const auto& r : env_.recipients) to += (to.empty() ? "<" : ",<") + r + ">";
    if (!stored) {
      spdlog::error("{}: from=<{}> to={} client={} size={} status=refused (spool: {})", env_.id,
                    env_.mail_from, to, client_.address, size_, stored.error().message);
      relay_metrics::refused("spool").inc();
      co_return smtp::make_reply(451, "4.3.0 Cannot keep the message now; try again later");
    }
    // Postfix's pair of lines for an accepted message (log_lines.hpp).
    spdlog::info("{}", log_lines::queue_client(env_.id, "", client_.address));
    log_lines::Queued q;
    q.from = env_.mail_from;
    q.size = size_;
    q.nrcpt = env_.recipients.size();
    q.tls = tls_;
    q.auth_user = env_.auth_user;
    spdlog::info("{}", log_lines::queued(env_.id, q));
    SpoolEntry entry;
    entry.envelope = env_;
    entry.size = size_;
    entry.fresh = true;
    queue_.add(entry, std::move(at_hand));
    relay_metrics::accepted().inc();
    co_return smtp::make_reply(250, "2.0.0 Ok: queued as " + *stored);
  }

  asio::awaitable<void> abort() override {
    pending_.clear();
    if (incoming_) co_await spool_.discard(incoming_);
  }

 private:
  Spool& spool_;
  QueueManager& queue_;
  std::shared_ptr<Spool::Incoming> incoming_;  // set once the message streams
  std::string pending_;  // the Received: header and the message, until it streams
  SpoolEnvelope env_;
  ClientInfo client_;
  bool tls_;
  HopCounter hops_;
  std::uint64_t size_ = 0;
};

}  // namespace

asio::awaitable<std::unique_ptr<MessageWriter>> SpoolSink::open(const ClientInfo& client,
                                                                const Envelope& envelope) {
  SpoolEnvelope env;
  env.id = spool_.new_id();
  env.arrival = static_cast<std::int64_t>(std::time(nullptr));
  env.client = client.address;
  env.helo = envelope.helo;
  env.auth_user = envelope.auth_user;
  env.mail_from = envelope.mail_from;
  env.recipients = envelope.recipients;
  // The Received: header goes first, so the message is never copied to
  // prepend it. Nothing touches the disk before the message comes.
  auto received = received_header(client, envelope, hostname_, env.id);
  co_return std::make_unique<SpoolWriter>(spool_, queue_, std::move(received), std::move(env),
                                          client, envelope.tls);
}

asio::awaitable<bool> UsersAuthenticator::verify(std::string user, std::string password) {
  std::shared_ptr<const UsersFile> users;
  {
    std::lock_guard lock(mutex_);
    users = users_;
  }
  // A named job, not a temporary inside the co_await (GCC 12 frame bug).
  auto job = [users, user = std::move(user), password = std::move(password)](
                 Batch&) -> Expected<bool> { return users && users->verify(user, password); };
  auto ok = co_await worker_.run<bool>(std::move(job));
  co_return ok&&* ok;
}

void UsersAuthenticator::replace(std::shared_ptr<const UsersFile> users) {
  std::lock_guard lock(mutex_);
  users_ = std::move(users);
}

}  // namespace relayscope::server
