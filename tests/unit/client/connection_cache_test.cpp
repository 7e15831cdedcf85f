// The relay's outbound connections between messages: a second message to
// the same server goes over the connection the first one opened, with
// MAIL, RCPT and DATA in one write when the server offers PIPELINING; a
// connection the server closed while it waited is replaced, not counted as
// a failure; one left idle is told QUIT; one whose transaction did not end
// cleanly is never kept.
#include "client/connection_cache.hpp"

#include <gtest/gtest.h>

#include "../support/loopback_peer.hpp"
#include "client/delivery.hpp"

namespace relayscope::client {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using testing::LoopbackPeer;
using testing::receive_line;
using testing::send;
using testing::tuple;

ClientOptions quick() {
  ClientOptions o;
  o.helo_name = "relay.test";
  o.connect_timeout = o.greeting_timeout = o.command_timeout = o.data_timeout = 3s;
  return o;
}

DeliveryRequest request(const tcp::endpoint& server, std::string rcpt) {
  DeliveryRequest r;
  r.server = server;
  r.mail_from = "from@x.test";
  r.recipients = {std::move(rcpt)};
  r.message = "Subject: t\r\n\r\nhello\r\n";
  return r;
}

// A server's side of one pipelined transaction: the group (MAIL, RCPT,
// DATA) read whole before any reply, then the message; the lines it read
// are appended to `seen`.
asio::awaitable<void> serve_pipelined(tcp::socket& s, std::string& buf,
                                      std::vector<std::string>& seen) {
  for (int i = 0; i < 3; ++i) seen.push_back(co_await receive_line(s, buf));
  co_await send(s, "250 ok\r\n250 ok\r\n354 go\r\n");
  for (;;) {
    auto l = co_await receive_line(s, buf);
    if (l.empty() || l == ".\r\n") break;
  }
  co_await send(s, "250 queued\r\n");
}

asio::awaitable<void> greet(tcp::socket& s, std::string& buf) {
  co_await send(s, "220 sink\r\n");
  co_await receive_line(s, buf);  // EHLO
  co_await send(s, "250-sink\r\n250 PIPELINING\r\n");
}

// Wakes a waiting coroutine (a timer that never expires by itself).
struct Event {
  explicit Event(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  bool set = false;
  void notify() {
    set = true;
    timer.cancel();
  }
  asio::awaitable<void> wait() {
    while (!set) co_await timer.async_wait(tuple);
  }
};

TEST(Transact, PipelinesMailRcptAndDataWhenTheServerOffersIt) {
  // The server replies to nothing before it has read all three commands: a
  // client that waited for the reply to MAIL would time out.
  LoopbackPeer p;
  std::vector<std::string> seen;
  std::vector<RecipientResult> results;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await greet(s, buf);
        co_await serve_pipelined(s, buf, seen);
        co_await receive_line(s, buf);  // QUIT
        co_await send(s, "221 bye\r\n");
      },
      [&]() -> asio::awaitable<void> {
        auto r = request(p.endpoint(), "a@y.test");
        results = co_await deliver(r, net::ScopeGuard::loopback_only(), quick());
      });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].disposition, Disposition::delivered) << results[0].text;
  EXPECT_EQ(seen, (std::vector<std::string>{"MAIL FROM:<from@x.test>\r\n", "RCPT TO:<a@y.test>\r\n",
                                            "DATA\r\n"}));
}

// One pipelined transaction over a cache whose server answers the group
// (MAIL, RCPT, DATA) with `replies`: what the client made of it, the line
// it sent next, and how many connections the cache kept.
struct Refused {
  std::vector<std::string> seen;
  std::vector<RecipientResult> results;
  std::string after;
  std::size_t kept = 99;
};

Refused refused_transaction(std::string replies) {
  LoopbackPeer p;
  Refused r;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await greet(s, buf);
        for (int i = 0; i < 3; ++i) r.seen.push_back(co_await receive_line(s, buf));
        co_await send(s, replies);
        r.after = co_await receive_line(s, buf);
        co_await send(s, "221 bye\r\n");
      },
      [&]() -> asio::awaitable<void> {
        // Named: the cache's connections keep a reference to the scope.
        auto scope = net::ScopeGuard::loopback_only();
        const auto options = quick();
        ConnectionCache cache(co_await asio::this_coro::executor, {});
        auto req = request(p.endpoint(), "a@y.test");
        r.results = co_await deliver(req, scope, options, cache);
        r.kept = cache.size();
      });
  return r;
}

TEST(Transact, AfterARefusedMailEveryPipelinedReplyIsReadAndNothingIsKept) {
  auto r = refused_transaction("550 5.7.1 sender refused\r\n503 need MAIL\r\n503 need RCPT\r\n");
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].disposition, Disposition::permanent);
  EXPECT_EQ(r.results[0].stage, Stage::mail);
  EXPECT_EQ(r.results[0].code, 550);
  EXPECT_EQ(r.after, "QUIT\r\n");  // in step: QUIT's reply is not one of the 503s
  EXPECT_EQ(r.kept, 0u);
}

TEST(ConnectionCache, ASecondMessageToTheSameServerGoesOverTheSameConnection) {
  // The peer accepts one connection only: a second one would never be
  // greeted, and its message would fail.
  LoopbackPeer p;
  Event quit_seen(p.io);
  std::vector<std::string> seen;
  std::vector<RecipientResult> first, second;
  std::string last;
  std::size_t kept_between = 0, kept_after = 99;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await greet(s, buf);
        co_await serve_pipelined(s, buf, seen);
        co_await serve_pipelined(s, buf, seen);
        last = co_await receive_line(s, buf);  // once it waited its idle time
        co_await send(s, "221 bye\r\n");
        quit_seen.notify();
      },
      [&]() -> asio::awaitable<void> {
        ConnectionCache::Settings settings;
        settings.idle = 200ms;
        auto scope = net::ScopeGuard::loopback_only();
        const auto options = quick();
        ConnectionCache cache(co_await asio::this_coro::executor, settings);
        auto r1 = request(p.endpoint(), "a@y.test");
        first = co_await deliver(r1, scope, options, cache);
        kept_between = cache.size();
        auto r2 = request(p.endpoint(), "b@y.test");
        second = co_await deliver(r2, scope, options, cache);
        co_await quit_seen.wait();
        kept_after = cache.size();
      });
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].disposition, Disposition::delivered) << first[0].text;
  EXPECT_EQ(second[0].disposition, Disposition::delivered) << second[0].text;
  EXPECT_EQ(kept_between, 1u);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[4], "RCPT TO:<b@y.test>\r\n");
  EXPECT_EQ(last, "QUIT\r\n");
  EXPECT_EQ(kept_after, 0u);
}

TEST(ConnectionCache, AConnectionTheServerClosedWhileIdleIsReplacedNotAFailure) {
  LoopbackPeer p;
  Event closed(p.io);
  std::vector<std::string> seen;
  std::vector<RecipientResult> first, second;
  int connections = 1;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await greet(s, buf);
        co_await serve_pipelined(s, buf, seen);
        s.close();  // the server's idle timeout, say
        closed.notify();
        auto [ec, again] = co_await p.acceptor.async_accept(tuple);
        if (ec) co_return;
        ++connections;
        std::string buf2;
        co_await greet(again, buf2);
        co_await serve_pipelined(again, buf2, seen);
        co_await receive_line(again, buf2);  // QUIT, at the end of the test
      },
      [&]() -> asio::awaitable<void> {
        auto scope = net::ScopeGuard::loopback_only();
        const auto options = quick();
        ConnectionCache cache(co_await asio::this_coro::executor, {});
        auto r1 = request(p.endpoint(), "a@y.test");
        first = co_await deliver(r1, scope, options, cache);
        co_await closed.wait();
        auto r2 = request(p.endpoint(), "b@y.test");
        second = co_await deliver(r2, scope, options, cache);
      });
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].disposition, Disposition::delivered) << first[0].text;
  EXPECT_EQ(second[0].disposition, Disposition::delivered) << second[0].text;
  EXPECT_EQ(connections, 2);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[4], "RCPT TO:<b@y.test>\r\n");
}

TEST(ConnectionCache, AConnectionWhoseRecipientsWereAllRefusedIsNotKept) {
  auto r =
      refused_transaction("250 ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid recipients\r\n");
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].disposition, Disposition::permanent);
  EXPECT_EQ(r.results[0].code, 550);
  EXPECT_EQ(r.after, "QUIT\r\n");
  EXPECT_EQ(r.kept, 0u);
}

TEST(ConnectionCache, KeysTellServersAndTlsApart) {
  auto a = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 25);
  auto b = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 26);
  EXPECT_NE(ConnectionCache::key_for(a, false), ConnectionCache::key_for(b, false));
  EXPECT_NE(ConnectionCache::key_for(a, false), ConnectionCache::key_for(a, true));
  EXPECT_EQ(ConnectionCache::key_for(a, true), ConnectionCache::key_for(a, true));
}

}  // namespace
}  // namespace relayscope::client
