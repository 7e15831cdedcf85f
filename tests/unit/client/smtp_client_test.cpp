// The client dialogue against scripted servers: what other testers get
// wrong (split multi-line replies, talking before the greeting, garbage).
#include "client/smtp_client.hpp"

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

ClientOptions quick() {
  ClientOptions o;
  o.helo_name = "prober.test";
  o.connect_timeout = o.greeting_timeout = o.command_timeout = o.data_timeout = 3s;
  return o;
}

TEST(SmtpClient, ReadsAMultiLineReplySplitAcrossPacketsWhole) {
  LoopbackPeer p;
  std::optional<Step> ehlo;
  smtp::EhloInfo info;
  p.run(
      [](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await send(s, "220 mx.test ESMTP\r\n");
        co_await receive_line(s, buf);
        co_await send(s, "250-mx.test\r\n250-SIZE 1000");
        co_await testing::gap(50ms);
        co_await send(s, "\r\n250-PIPELI");
        co_await testing::gap(50ms);
        co_await send(s, "NING\r\n250 STARTTLS\r\n");
        co_await receive_line(s, buf);
      },
      [&]() -> asio::awaitable<void> {
        auto scope = net::ScopeGuard::loopback_only();
        SmtpClient c(co_await asio::this_coro::executor, scope, quick());
        co_await c.connect(p.endpoint());
        co_await c.greeting();
        ehlo = co_await c.ehlo();
        info = c.ehlo_info();
      });
  ASSERT_TRUE(ehlo && ehlo->ok());
  EXPECT_EQ(ehlo->reply->lines.size(), 4u);
  EXPECT_TRUE(info.pipelining());
  EXPECT_TRUE(info.starttls());
  EXPECT_EQ(info.size_limit(), 1000u);
}

TEST(SmtpClient, NeverSendsBeforeTheGreetingAndNamesItself) {
  LoopbackPeer p;
  bool talked_early = false;
  std::string ehlo_line;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        // A greeting pause, as postscreen does: anything sent now is early.
        co_await testing::gap(300ms);
        talked_early = s.available() > 0;
        co_await send(s, "220 slow.test\r\n");
        std::string buf;
        ehlo_line = co_await receive_line(s, buf);
        co_await send(s, "250 ok\r\n");
      },
      [&]() -> asio::awaitable<void> {
        auto scope = net::ScopeGuard::loopback_only();
        SmtpClient c(co_await asio::this_coro::executor, scope, quick());
        co_await c.connect(p.endpoint());
        auto g = co_await c.greeting();
        EXPECT_TRUE(g.ok());
        EXPECT_EQ(c.greeting_host(), "slow.test");
        co_await c.ehlo();
      });
  EXPECT_FALSE(talked_early);
  EXPECT_EQ(ehlo_line, "EHLO prober.test\r\n");
}

TEST(SmtpClient, HelloFallsBackToHeloOnlyAfterARefusedEhlo) {
  LoopbackPeer p;
  std::vector<std::string> commands;
  Step hello;
  bool esmtp = true;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await send(s, "220 old.test\r\n");
        commands.push_back(co_await receive_line(s, buf));
        co_await send(s, "502 5.5.1 EHLO not implemented\r\n");
        commands.push_back(co_await receive_line(s, buf));
        co_await send(s, "250 old.test\r\n");
      },
      [&]() -> asio::awaitable<void> {
        auto scope = net::ScopeGuard::loopback_only();
        SmtpClient c(co_await asio::this_coro::executor, scope, quick());
        co_await c.connect(p.endpoint());
        co_await c.greeting();
        hello = co_await c.hello();
        esmtp = c.esmtp();
      });
  EXPECT_TRUE(hello.ok());
  EXPECT_FALSE(esmtp);
  EXPECT_EQ(commands, (std::vector<std::string>{"EHLO prober.test\r\n", "HELO prober.test\r\n"}));
}

TEST(SmtpClient, GarbageIsAGarbageFailureNotACrash) {
  LoopbackPeer p;
  Step g;
  p.run(
      [](tcp::socket& s) -> asio::awaitable<void> {
        co_await send(s, "hello there, this is not SMTP\r\n");
        co_await testing::gap(100ms);
      },
      [&]() -> asio::awaitable<void> {
        auto scope = net::ScopeGuard::loopback_only();
        SmtpClient c(co_await asio::this_coro::executor, scope, quick());
        co_await c.connect(p.endpoint());
        g = co_await c.greeting();
      });
  EXPECT_EQ(g.failure, Step::Failure::garbage);
}

TEST(SmtpClient, KeepsATranscriptWithTimesAndDirections) {
  LoopbackPeer p;
  Transcript t;
  p.run(
      [](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await send(s, "220 x\r\n");
        co_await receive_line(s, buf);
        co_await send(s, "221 bye\r\n");
      },
      [&]() -> asio::awaitable<void> {
        auto scope = net::ScopeGuard::loopback_only();
        SmtpClient c(co_await asio::this_coro::executor, scope, quick(), &t);
        co_await c.connect(p.endpoint());
        co_await c.greeting();
        co_await c.quit();
      });
  std::vector<std::pair<char, std::string>> seen;
  for (const auto& e : t) {
    if (e.direction != '*') seen.emplace_back(e.direction, e.text);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<char, std::string>>{
                      {'<', "220 x"}, {'>', "QUIT"}, {'<', "221 bye"}}));
  for (std::size_t i = 1; i < t.size(); ++i) EXPECT_GE(t[i].t_us, t[i - 1].t_us);
}

TEST(Deliver, ClassifiesPerRecipientAndSendsTheMessage) {
  LoopbackPeer p;
  std::vector<RecipientResult> results;
  std::string body;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await send(s, "220 sink\r\n");
        co_await receive_line(s, buf);  // EHLO
        co_await send(s, "250-sink\r\n250 8BITMIME\r\n");
        co_await receive_line(s, buf);  // MAIL
        co_await send(s, "250 ok\r\n");
        co_await receive_line(s, buf);  // RCPT a
        co_await send(s, "250 ok\r\n");
        co_await receive_line(s, buf);  // RCPT b
        co_await send(s, "450 try later\r\n");
        co_await receive_line(s, buf);  // RCPT c
        co_await send(s, "550 no such user\r\n");
        co_await receive_line(s, buf);  // DATA
        co_await send(s, "354 go\r\n");
        for (;;) {
          auto l = co_await receive_line(s, buf);
          if (l.empty() || l == ".\r\n") break;
          body += l;
        }
        co_await send(s, "250 queued\r\n");
        co_await receive_line(s, buf);
        co_await send(s, "221 bye\r\n");
      },
      [&]() -> asio::awaitable<void> {
        DeliveryRequest r;
        r.server = p.endpoint();
        r.mail_from = "from@x.test";
        r.recipients = {"a@y.test", "b@y.test", "c@y.test"};
        r.message = "Subject: t\r\n\r\n.leading dot\r\n";
        results = co_await deliver(r, net::ScopeGuard::loopback_only(), quick());
      });
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].disposition, Disposition::delivered);
  EXPECT_EQ(results[1].disposition, Disposition::transient);
  EXPECT_EQ(results[1].code, 450);
  EXPECT_EQ(results[2].disposition, Disposition::permanent);
  EXPECT_EQ(body, "Subject: t\r\n\r\n..leading dot\r\n");
}

TEST(Deliver, SendsAMessageReadInPiecesOnlyOnceTheServerSaid354) {
  // The relay's spool hands the message over in pieces (constant memory);
  // a CRLF split between two pieces and a leading dot at a piece's start
  // come out as from the whole message.
  LoopbackPeer p;
  std::vector<RecipientResult> results;
  std::string body, mail;
  bool said_354 = false, read_before_354 = false;
  std::vector<std::uint64_t> offsets;
  const std::vector<std::string> pieces = {"Subject: t\r", "\n\r\n", ".leading dot\r\n"};
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await send(s, "220 sink\r\n");
        co_await receive_line(s, buf);  // EHLO
        co_await send(s, "250-sink\r\n250 SIZE 1000\r\n");
        mail = co_await receive_line(s, buf);
        co_await send(s, "250 ok\r\n");
        co_await receive_line(s, buf);  // RCPT
        co_await send(s, "250 ok\r\n");
        co_await receive_line(s, buf);  // DATA
        said_354 = true;
        co_await send(s, "354 go\r\n");
        for (;;) {
          auto l = co_await receive_line(s, buf);
          if (l.empty() || l == ".\r\n") break;
          body += l;
        }
        co_await send(s, "250 queued\r\n");
        co_await receive_line(s, buf);
        co_await send(s, "221 bye\r\n");
      },
      [&]() -> asio::awaitable<void> {
        DeliveryRequest r;
        r.server = p.endpoint();
        r.mail_from = "from@x.test";
        r.recipients = {"a@y.test"};
        r.message_size = 28;
        r.pieces = [&](std::uint64_t offset) -> asio::awaitable<std::optional<std::string>> {
          if (!said_354) read_before_354 = true;
          offsets.push_back(offset);
          std::uint64_t at = 0;
          for (const auto& piece : pieces) {
            if (at == offset) co_return piece;
            at += piece.size();
          }
          co_return std::string();
        };
        results = co_await deliver(r, net::ScopeGuard::loopback_only(), quick());
      });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].disposition, Disposition::delivered) << results[0].text;
  EXPECT_EQ(body, "Subject: t\r\n\r\n..leading dot\r\n");
  EXPECT_FALSE(read_before_354);
  // The size is known: the dot goes with the last piece, with no read past it.
  EXPECT_EQ(offsets, (std::vector<std::uint64_t>{0, 11, 14}));
  EXPECT_NE(mail.find("SIZE=28"), std::string::npos) << mail;
}

TEST(Deliver, AMessageThatCannotBeReadIsNotEndedWithADot) {
  LoopbackPeer p;
  std::vector<RecipientResult> results;
  std::string rest;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await send(s, "220 sink\r\n");
        co_await receive_line(s, buf);  // EHLO
        co_await send(s, "250 sink\r\n");
        co_await receive_line(s, buf);  // MAIL
        co_await send(s, "250 ok\r\n");
        co_await receive_line(s, buf);  // RCPT
        co_await send(s, "250 ok\r\n");
        co_await receive_line(s, buf);  // DATA
        co_await send(s, "354 go\r\n");
        for (;;) {
          auto l = co_await receive_line(s, buf);
          if (l.empty()) break;  // the client closed
          rest += l;
        }
      },
      [&]() -> asio::awaitable<void> {
        DeliveryRequest r;
        r.server = p.endpoint();
        r.mail_from = "from@x.test";
        r.recipients = {"a@y.test"};
        r.message_size = 100;
        r.pieces = [](std::uint64_t offset) -> asio::awaitable<std::optional<std::string>> {
          if (offset == 0) co_return std::string("Subject: half\r\n");
          co_return std::nullopt;  // the spool file cannot be read
        };
        results = co_await deliver(r, net::ScopeGuard::loopback_only(), quick());
      });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].disposition, Disposition::transient);
  EXPECT_EQ(rest.find(".\r\n"), std::string::npos) << rest;  // never ended: the server drops it
}

TEST(Deliver, NoConnectionMeansTryAgainLater) {
  asio::io_context io;
  tcp::endpoint unused;
  {
    tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    unused = a.local_endpoint();
  }
  std::vector<RecipientResult> results;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        DeliveryRequest r;
        r.server = unused;
        r.mail_from = "";
        r.recipients = {"a@y.test"};
        r.message = "x\r\n";
        results = co_await deliver(r, net::ScopeGuard::loopback_only(), quick());
      },
      asio::detached);
  io.run_for(10s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].disposition, Disposition::transient);
}

}  // namespace
}  // namespace relayscope::client
