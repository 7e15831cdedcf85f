// See relay_parts.hpp.
#include "server/relay_parts.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

#include "server/relay_metrics.hpp"
#include "server/log_lines.hpp"
#include "mail/received.hpp"

namespace relayscope::server {

namespace {

constexpr std::size_t max_hops = 50;  // RFC 5321 6.3: a loop, most likely

}  // namespace

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

std::optional<smtp::Reply> RelaySessionPolicy::check_recipient(const SessionView& s,
                                                               const smtp::Path& rcpt) {
  auto verdict = policy_.judge(s.client.ip ? &*s.client.ip : nullptr, !s.auth_user.empty(), rcpt);
  if (!verdict.accepted()) {
    spdlog::info("session {} client={} rcpt={} refused: {}", s.client.session_id, s.client.address,
                 rcpt.wire(), verdict.refusal->text());
    relay_metrics::refused("relay_denied").inc();
    return verdict.refusal;
  }
  spdlog::debug("session {} client={} rcpt={} accepted: {}", s.client.session_id, s.client.address,
                rcpt.wire(), to_string(verdict.rule));
  return std::nullopt;
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
  return mail::received_header({envelope.helo, client.address, hostname, "relayscope", with, id,
                                envelope.recipients.size() == 1 ? envelope.recipients.front() : "",
                                std::time(nullptr)});
}

std::size_t count_received(std::string_view message) {
  std::size_t n = 0, pos = 0;
  while (pos < message.size()) {
    auto end = message.find("\r\n", pos);
    if (end == std::string_view::npos) {
      end = message.size();
    }
    auto line = message.substr(pos, end - pos);
    if (line.empty()) break;  // end of the header section
    if (line.size() >= 9 && strncasecmp(line.data(), "received:", 9) == 0) {
      ++n;
    }
    pos = end + 2;
  }
  return n;
}

asio::awaitable<smtp::Reply> SpoolSink::accept(const ClientInfo& client, const Envelope& envelope,
                                               std::string message) {
  if (count_received(message) > max_hops) {
    spdlog::warn("session {} client={} message refused: too many Received: headers",
                 client.session_id, client.address);
    relay_metrics::refused("mail_loop").inc();
    co_return make_reply(554, "5.4.6 Too many hops: a mail loop?");
  }
  SpoolEnvelope env;
  env.id = spool_.new_id();
  env.arrival = static_cast<std::int64_t>(std::time(nullptr));
  env.client = client.address;
  env.helo = envelope.helo;
  env.auth_user = envelope.auth_user;
  env.mail_from = envelope.mail_from;
  env.recipients = envelope.recipients;
  auto size = message.size();
  auto full = received_header(client, envelope, hostname_, env.id) + message;
  message.clear();
  message.shrink_to_fit();
  auto stored = co_await spool_.store(env, std::move(full));
  std::string to;
  for (const auto& r : env.recipients) {
    to += (to.empty() ? "<" : ",<") + r + ">";
  }
  if (!stored) {
    spdlog::error("{}: from=<{}> to={} client={} size={} status=refused (spool: {})", env.id,
                  env.mail_from, to, client.address, size, stored.error().message);
    relay_metrics::refused("spool").inc();
    co_return make_reply(451, "4.3.0 Cannot keep the message now; try again later");
  }
  // Postfix's pair of lines for an accepted message (log_lines.hpp).
  spdlog::info("{}", log_lines::queue_client(env.id, "", client.address));
  log_lines::Queued q;
  q.from = env.mail_from;
  q.size = size;
  q.nrcpt = env.recipients.size();
  q.tls = envelope.tls;
  q.auth_user = env.auth_user;
  spdlog::info("{}", log_lines::queued(env.id, q));
  SpoolEntry entry;
  entry.envelope = std::move(env);
  entry.size = size;
  queue_.add(entry);
  relay_metrics::accepted().inc();
  co_return make_reply(250, "2.0.0 Ok: queued as " + *stored);
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
