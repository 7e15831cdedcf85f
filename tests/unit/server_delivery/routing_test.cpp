// Routing and MX fallback: the rule that moves on to the next host, and the
// real SMTP client against two scripted servers on loopback: a primary MX
// that greets with 421 (or 450) must not stop delivery while a backup MX
// accepts, whereas a refusal inside the transaction (550 at RCPT) stands.
#include "server/routing.hpp"

#include <gtest/gtest.h>

#include <asio/experimental/as_tuple.hpp>

#include "../support/loopback_peer.hpp"
#include "net/scope_guard.hpp"

namespace relayscope::server {
namespace {

using client::Disposition;
using client::RecipientResult;
using client::Stage;
using relayscope::testing::receive_line;
using relayscope::testing::send;

RecipientResult result(Disposition d, int code, Stage stage) {
  RecipientResult r;
  r.recipient = "bob@remote.test";
  r.disposition = d;
  r.code = code;
  r.text = std::to_string(code) + " text";
  r.stage = stage;
  return r;
}

TEST(TryNextHost, MovesOnWhenNoTransactionTookPlace) {
  EXPECT_TRUE(try_next_host({result(Disposition::transient, 0, Stage::connect)}));
  EXPECT_TRUE(try_next_host({result(Disposition::transient, 421, Stage::greeting)}));
  EXPECT_TRUE(try_next_host({result(Disposition::transient, 450, Stage::greeting)}));
  EXPECT_TRUE(try_next_host({result(Disposition::transient, 451, Stage::hello)}));
  EXPECT_TRUE(try_next_host({result(Disposition::transient, 421, Stage::rcpt)}));
  EXPECT_TRUE(try_next_host({}));
}

TEST(TryNextHost, StaysWhenTheHostAnsweredTheTransaction) {
  EXPECT_FALSE(try_next_host({result(Disposition::permanent, 554, Stage::greeting)}));
  EXPECT_FALSE(try_next_host({result(Disposition::transient, 451, Stage::mail)}));
  EXPECT_FALSE(try_next_host({result(Disposition::transient, 452, Stage::rcpt)}));
  EXPECT_FALSE(try_next_host({result(Disposition::delivered, 250, Stage::data)}));
  EXPECT_FALSE(try_next_host({result(Disposition::transient, 0, Stage::connect),
                              result(Disposition::delivered, 250, Stage::data)}));
}

// A minimal SMTP server: greets with `greeting`; when it is positive, runs
// one transaction answering RCPT with `rcpt_reply`, then QUIT.
asio::awaitable<void> serve(asio::ip::tcp::acceptor& acceptor, std::string greeting,
                            std::string rcpt_reply, int& sessions) {
  auto [ec, s] = co_await acceptor.async_accept(relayscope::testing::tuple);
  if (ec) co_return;
  ++sessions;
  co_await send(s, greeting + "\r\n");
  if (greeting[0] != '2') co_return;
  std::string buf;
  for (;;) {
    auto line = co_await receive_line(s, buf);
    if (line.empty()) co_return;
    auto verb = line.substr(0, 4);
    if (verb == "EHLO" || verb == "HELO") {
      co_await send(s, "250 backup.test\r\n");
    } else if (verb == "MAIL") {
      co_await send(s, "250 2.1.0 ok\r\n");
    } else if (verb == "RCPT") {
      co_await send(s, rcpt_reply + "\r\n");
    } else if (verb == "DATA") {
      co_await send(s, "354 go\r\n");
      for (;;) {
        auto body = co_await receive_line(s, buf);
        if (body.empty()) co_return;
        if (body == ".\r\n") break;
      }
      co_await send(s, "250 2.0.0 queued as B1\r\n");
    } else if (verb == "QUIT") {
      co_await send(s, "221 bye\r\n");
      co_return;
    } else {
      co_await send(s, "502 5.5.1 no\r\n");
    }
  }
}

struct TwoHosts {
  asio::io_context io;
  asio::ip::tcp::acceptor primary{io, {asio::ip::make_address("127.0.0.1"), 0}};
  asio::ip::tcp::acceptor backup{io, {asio::ip::make_address("127.0.0.1"), 0}};
  int primary_sessions = 0, backup_sessions = 0;

  Outcomes deliver(std::string primary_greeting, std::string primary_rcpt = "250 ok") {
    asio::co_spawn(io, serve(primary, primary_greeting, primary_rcpt, primary_sessions),
                   asio::detached);
    asio::co_spawn(io, serve(backup, "220 backup.test ESMTP", "250 2.1.5 ok", backup_sessions),
                   asio::detached);
    auto scope = net::ScopeGuard::loopback_only();
    client::ClientOptions options;
    options.helo_name = "mx.relay.test";
    options.connect_timeout = std::chrono::seconds(5);
    options.greeting_timeout = std::chrono::seconds(5);
    options.command_timeout = std::chrono::seconds(5);
    options.data_timeout = std::chrono::seconds(5);
    TryHost try_host =
        [&scope, options](
            const asio::ip::tcp::endpoint& host) -> asio::awaitable<std::vector<RecipientResult>> {
      client::DeliveryRequest req;
      req.server = host;
      req.mail_from = "alice@client.test";
      req.recipients = {"bob@remote.test"};
      req.message = "Subject: x\r\n\r\nhi\r\n";
      co_return co_await client::deliver(req, scope, options);
    };
    std::optional<Outcomes> out;
    std::vector<asio::ip::tcp::endpoint> hosts{primary.local_endpoint(), backup.local_endpoint()};
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          // Hoisted: GCC 12 mishandles a braced list inside a co_await.
          std::vector<std::string> rcpts{"bob@remote.test"};
          auto o = co_await try_hosts(hosts, rcpts, try_host);
          out.emplace(std::move(o));
        },
        asio::detached);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!out && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(10));
    }
    return out ? *out : Outcomes{};
  }
  std::string backup_relay() const {
    return "127.0.0.1:" + std::to_string(backup.local_endpoint().port());
  }
};

TEST(MxFallback, A421GreetingFromThePrimaryMovesOnToTheBackup) {
  TwoHosts h;
  auto out = h.deliver("421 4.3.2 primary.test busy, try later");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.kind, RecipientOutcome::Kind::delivered) << out[0].second.text;
  EXPECT_EQ(out[0].second.relay, h.backup_relay());
  EXPECT_EQ(h.primary_sessions, 1);
  EXPECT_EQ(h.backup_sessions, 1);
  ASSERT_TRUE(out[0].second.reply);
  EXPECT_EQ(out[0].second.reply->code, 250);
}

TEST(MxFallback, A4xxGreetingFromThePrimaryMovesOnToTheBackup) {
  TwoHosts h;
  auto out = h.deliver("450 4.7.1 primary.test greylisted");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.kind, RecipientOutcome::Kind::delivered) << out[0].second.text;
  EXPECT_EQ(out[0].second.relay, h.backup_relay());
}

TEST(MxFallback, ARefusalInsideTheTransactionStands) {
  TwoHosts h;
  auto out = h.deliver("220 primary.test ESMTP", "550 5.1.1 no such user");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.kind, RecipientOutcome::Kind::permanent);
  EXPECT_EQ(out[0].second.status, "5.1.1");
  EXPECT_EQ(out[0].second.text, "550 5.1.1 no such user");
  ASSERT_TRUE(out[0].second.reply);
  EXPECT_EQ(out[0].second.reply->code, 550);
  EXPECT_EQ(h.backup_sessions, 0);
}

TEST(Routing, PlansLocalRemoteAndRefusedRecipients) {
  RelayPolicy policy(CidrSet{}, {"local.test"});
  auto plan = plan_routes({"bob@local.test", "x@Remote.Test.", "y@[127.0.0.9]", "bad address"},
                          policy, false);
  EXPECT_EQ(plan.destinations["local"], std::vector<std::string>{"bob@local.test"});
  EXPECT_EQ(plan.destinations["remote.test"], std::vector<std::string>{"x@Remote.Test."});
  EXPECT_EQ(plan.destinations["[127.0.0.9]"], std::vector<std::string>{"y@[127.0.0.9]"});
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_EQ(plan.refused[0].second.status, "5.1.3");
  auto via = plan_routes({"x@remote.test", "y@other.test"}, policy, true);
  EXPECT_EQ(via.destinations["smarthost"].size(), 2u);
}

}  // namespace
}  // namespace relayscope::server
