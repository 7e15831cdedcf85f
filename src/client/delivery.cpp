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

asio::awaitable<std::vector<RecipientResult>> deliver(const DeliveryRequest& request,
                                                      const net::ScopeGuard& scope,
                                                      ClientOptions options) {
  SmtpClient c(co_await asio::this_coro::executor, scope, std::move(options));
  if (auto s = co_await c.connect(request.server); !s.ok()) {
    co_return all(request.recipients, s, Stage::connect);
  }
  if (auto s = co_await c.greeting(); !s.ok()) {
    co_return all(request.recipients, s, Stage::greeting);
  }
  if (auto s = co_await c.hello(); !s.ok()) {
    co_return all(request.recipients, s, Stage::hello);
  }
  if (request.tls && c.ehlo_info().starttls()) {
    // Opportunistic: a failed handshake leaves the connection unusable, so
    // the message is retried later rather than sent in clear text now.
    if (auto s = co_await c.starttls(*request.tls, request.tls_sni); !s.ok()) {
      co_return all(request.recipients, s, Stage::starttls);
    }
  }
  std::string params;
  if (c.ehlo_info().has("8BITMIME")) params = "BODY=8BITMIME";
  if (c.ehlo_info().has("SIZE")) {
    params += (params.empty() ? "" : " ") + std::string("SIZE=") +
              std::to_string(request.pieces ? request.message_size : request.message.size());
  }
  auto from = "<" + request.mail_from + ">";
  if (auto s = co_await c.mail_from(from, params); !s.ok()) {
    co_return all(request.recipients, s, Stage::mail);
  }

  std::vector<RecipientResult> results;
  std::size_t accepted = 0;
  for (const auto& r : request.recipients) {
    auto s = co_await c.rcpt_to("<" + r + ">");
    if (!s.ok() && !s.reply) co_return all(request.recipients, s, Stage::rcpt);  // lost
    results.push_back({r, s.ok() ? Disposition::delivered : classify(s), s.code(), describe(s),
                       Stage::rcpt, s.reply});
    if (s.ok()) ++accepted;
  }
  if (accepted == 0) {
    co_await c.quit();
    co_return results;
  }
  Step d;
  if (request.pieces) {
    d = co_await c.data(request.pieces);
  } else {
    d = co_await c.data(request.message);
  }
  for (auto& r : results) {
    if (r.disposition != Disposition::delivered) continue;
    r.disposition = classify(d);
    r.code = d.code();
    r.text = describe(d);
    r.stage = Stage::data;
    r.reply = d.reply;
  }
  co_await c.quit();
  co_return results;
}

}  // namespace relayscope::client
