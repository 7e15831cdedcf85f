// See delivery.hpp. The classification follows RFC 5321: 4yz is transient,
// 5yz permanent; anything that is not a reply (no connection, timeout,
// garbage) is transient so the queue retries it.
#include "client/delivery.hpp"

namespace relayscope::client {

namespace {

std::string describe(const Step& s) {
  if (s.reply) return std::to_string(s.reply->code) + " " + s.reply->text();
  return s.detail;
}

Disposition classify(const Step& s) {
  if (s.ok()) return Disposition::delivered;
  if (s.reply && s.reply->permanent()) return Disposition::permanent;
  return Disposition::transient;
}

std::vector<RecipientResult> all(const std::vector<std::string>& rcpts, const Step& s,
                                 Stage stage) {
  std::vector<RecipientResult> out;
  for (const auto& r : rcpts)
    out.push_back({r, classify(s), s.code(), describe(s), stage, s.reply});
  return out;
}

}  // namespace

const char* to_string(Disposition d) {
  switch (d) {
    case Disposition::delivered:
      return "delivered";
    case Disposition::transient:
      return "transient";
    case Disposition::permanent:
      return "permanent";
  }
  return "transient";
}

asio::awaitable<Step> open_session(SmtpClient& c, const DeliveryRequest& request, Stage& stage) {
  stage = Stage::connect;
  auto s = co_await c.connect(request.server);
  if (!s.ok()) co_return s;
  stage = Stage::greeting;
  s = co_await c.greeting();
  if (!s.ok()) co_return s;
  stage = Stage::hello;
  s = co_await c.hello();
  if (!s.ok() || !request.tls || !c.ehlo_info().starttls()) co_return s;
  // Opportunistic: a failed handshake leaves the connection unusable, so
  // the message is retried later rather than sent in clear text now.
  stage = Stage::starttls;
  s = co_await c.starttls(*request.tls, request.tls_sni);
  co_return s;
}

namespace {

// MAIL's parameters: the body type and the size, where the server takes them.
std::string mail_params(const SmtpClient& c, const DeliveryRequest& request) {
  std::string params;
  if (c.ehlo_info().has("8BITMIME")) params = "BODY=8BITMIME";
  if (c.ehlo_info().has("SIZE")) {
    params += (params.empty() ? "" : " ") + std::string("SIZE=") +
              std::to_string(request.pieces ? request.message_size : request.message.size());
  }
  return params;
}

// No reply, or 421 (the server is closing): the connection is done for.
bool closing(const Step& s) {
  return !s.reply || s.reply->code == 421;
}

// The message after a 354: from the spool in pieces, or whole.
asio::awaitable<Step> send_message(SmtpClient& c, const DeliveryRequest& request) {
  if (request.pieces) co_return co_await c.send_message(request.pieces, request.message_size);
  co_return co_await c.send_message(request.message);
}

// The recipients RCPT accepted take the outcome of DATA (its command or
// the reply after the dot).
void settle_accepted(std::vector<RecipientResult>& results, const Step& d) {
  for (auto& r : results) {
    if (r.disposition != Disposition::delivered) continue;
    r.disposition = classify(d);
    r.code = d.code();
    r.text = describe(d);
    r.stage = Stage::data;
    r.reply = d.reply;
  }
}

}  // namespace

asio::awaitable<Transaction> transact(SmtpClient& c, const DeliveryRequest& request) {
  Transaction t;
  const bool pipelined = c.pipelining_offered();
  const auto from = "<" + request.mail_from + ">";
  const auto params = mail_params(c, request);
  Step m;
  if (pipelined) {
    std::vector<std::string> group{"MAIL FROM:" + from + (params.empty() ? "" : " " + params)};
    for (const auto& r : request.recipients) group.push_back("RCPT TO:<" + r + ">");
    group.push_back("DATA");
    m = co_await c.send_group(group);
    if (m.ok()) m = co_await c.reply(250, 250);
  } else {
    m = co_await c.mail_from(from, params);
  }
  if (!m.ok() && (closing(m) || !pipelined)) {
    t.results = all(request.recipients, m, Stage::mail);
    t.lost_at_mail = closing(m);
    t.ending = closing(m) ? Ending::broken : Ending::quit_worthy;
    co_return t;
  }
  // Each RCPT's reply (pipelined: read in order, even after a refused MAIL,
  // so that the connection stays in step).
  std::size_t accepted = 0;
  bool server_closing = false;
  for (const auto& r : request.recipients) {
    Step s;
    if (pipelined) {
      s = co_await c.reply(250, 251);
    } else {
      s = co_await c.rcpt_to("<" + r + ">");
    }
    if (!s.reply) {
      t.results = m.ok() ? all(request.recipients, s, Stage::rcpt)
                         : all(request.recipients, m, Stage::mail);
      co_return t;  // lost: broken
    }
    server_closing = server_closing || closing(s);
    t.results.push_back({r, s.ok() ? Disposition::delivered : classify(s), s.code(), describe(s),
                         Stage::rcpt, s.reply});
    if (s.ok()) ++accepted;
  }
  Step d;
  if (pipelined) {
    d = co_await c.reply(354, 354);
  } else if (accepted > 0) {
    d = co_await c.data_command();
  }
  if (!m.ok() || accepted == 0) {
    // Nothing to send. A 354 regardless (only DATA in the group could get
    // one) is left without its message: closing drops it at the server.
    if (!m.ok()) t.results = all(request.recipients, m, Stage::mail);
    bool unusable = server_closing || (pipelined && (closing(d) || d.ok()));
    t.ending = unusable ? Ending::broken : Ending::quit_worthy;
    co_return t;
  }
  bool answered_message = false;
  if (d.ok()) {
    d = co_await send_message(c, request);
    answered_message = static_cast<bool>(d.reply);
  }
  settle_accepted(t.results, d);
  if (server_closing || closing(d)) {
    t.ending = Ending::broken;
  } else {
    t.ending = answered_message ? Ending::reusable : Ending::quit_worthy;
  }
  co_return t;
}

asio::awaitable<std::vector<RecipientResult>> deliver(const DeliveryRequest& request,
                                                      const net::ScopeGuard& scope,
                                                      ClientOptions options) {
  SmtpClient c(co_await asio::this_coro::executor, scope, std::move(options));
  Stage stage = Stage::connect;
  auto opened = co_await open_session(c, request, stage);
  if (!opened.ok()) co_return all(request.recipients, opened, stage);
  auto t = co_await transact(c, request);
  if (t.ending != Ending::broken) co_await c.quit();
  co_return std::move(t.results);
}

namespace {

// What is left of a connection after its transaction: kept for the next
// message, told QUIT, or closed.
asio::awaitable<void> keep_or_close(ConnectionCache& cache, const std::string& key,
                                    ConnectionCache::Connection connection, Ending ending) {
  if (ending == Ending::reusable) {
    cache.put(key, std::move(connection));
    co_return;
  }
  if (ending == Ending::quit_worthy) co_await connection.client->quit();
  connection.client->close();
}

}  // namespace

asio::awaitable<std::vector<RecipientResult>> deliver(const DeliveryRequest& request,
                                                      const net::ScopeGuard& scope,
                                                      const ClientOptions& options,
                                                      ConnectionCache& cache) {
  const auto key = ConnectionCache::key_for(request.server, request.tls != nullptr);
  auto cached = cache.take(key);
  if (cached) {
    auto t = co_await transact(*cached->client, request);
    if (!t.lost_at_mail) {
      co_await keep_or_close(cache, key, std::move(*cached), t.ending);
      co_return std::move(t.results);
    }
    // Closed by the server while it waited (no transaction took place):
    // the message goes on a new connection.
    cached->client->close();
  }
  // Hoisted out of the expression (GCC 12 mishandles a co_await among
  // other arguments).
  auto executor = co_await asio::this_coro::executor;
  ConnectionCache::Connection fresh;
  fresh.client = std::make_unique<SmtpClient>(executor, scope, options);
  fresh.opened = ConnectionCache::Clock::now();
  Stage stage = Stage::connect;
  auto opened = co_await open_session(*fresh.client, request, stage);
  if (!opened.ok()) co_return all(request.recipients, opened, stage);
  auto t = co_await transact(*fresh.client, request);
  co_await keep_or_close(cache, key, std::move(fresh), t.ending);
  co_return std::move(t.results);
}

}  // namespace relayscope::client
