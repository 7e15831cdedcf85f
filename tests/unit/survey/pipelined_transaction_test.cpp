// A variant's RSET, MAIL and RCPT in one write where the server offers
// PIPELINING (RFC 2920), against a scripted server: the commands come
// before any reply, the replies are taken in order (a refused MAIL's
// RCPT reply too, so that the next variant's replies stay in step), and
// without PIPELINING each command still waits for its reply. And a
// greylist retry's variants: only those the first try had no final answer
// to are sent again.
#include <gtest/gtest.h>

#include "../support/loopback_peer.hpp"
#include "survey/probe.hpp"
#include "survey/test_message.hpp"
#include "survey/variants.hpp"

namespace relayscope::survey {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using testing::LoopbackPeer;
using testing::receive_line;
using testing::send;

ProbeOptions quick() {
  ProbeOptions o;
  o.client.helo_name = "prober.test";
  o.client.connect_timeout = o.client.greeting_timeout = o.client.command_timeout =
      o.client.data_timeout = 3s;
  o.send_data = false;
  return o;
}

Transaction variant(const std::string& from, const std::string& to) {
  Transaction t;
  t.name = "test";
  t.mail_from = from;
  t.rcpt_to = to;
  return t;
}

// The server's side: greeting and EHLO (with `ehlo` as its reply).
asio::awaitable<void> open(tcp::socket& s, std::string& buf, const std::string& ehlo) {
  co_await send(s, "220 mx.test ESMTP\r\n");
  co_await receive_line(s, buf);
  co_await send(s, ehlo);
}

// The prober's side: greeting and EHLO, then each variant (RSET first) in
// order on the one connection.
asio::awaitable<std::vector<TransactionResult>> run_variants_against(
    tcp::endpoint server, std::vector<Transaction> variants) {
  auto scope = net::ScopeGuard::loopback_only();
  auto options = quick();
  client::SmtpClient c(co_await asio::this_coro::executor, scope, options.client);
  co_await c.connect(server);
  co_await c.greeting();
  co_await c.ehlo();
  ProbeTarget target;
  std::vector<TransactionResult> results;
  for (const auto& v : variants) {
    auto r = co_await run_transaction(c, v, false, target, options, true);
    results.push_back(std::move(r));
  }
  co_return results;
}

TEST(PipelinedTransaction, GroupsRsetMailRcptAndKeepsRepliesInStep) {
  LoopbackPeer p;
  std::vector<std::string> first_group, second_group;
  std::vector<TransactionResult> results;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await open(s, buf, "250-mx.test\r\n250 PIPELINING\r\n");
        // All three lines before any reply: a client waiting for the RSET's
        // reply would leave the second read empty at its timeout.
        for (int i = 0; i < 3; ++i) first_group.push_back(co_await receive_line(s, buf));
        co_await send(s, "250 2.0.0 Ok\r\n501 5.1.7 Bad sender\r\n503 5.5.1 Need MAIL\r\n");
        for (int i = 0; i < 3; ++i) second_group.push_back(co_await receive_line(s, buf));
        co_await send(s, "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n554 5.7.1 Relay access denied\r\n");
      },
      [&]() -> asio::awaitable<void> {
        std::vector<Transaction> both{variant("<a@[127.0.0.1]>", "<x@far.test>"),
                                      variant("<b@near.test>", "<y@far.test>")};
        results = co_await run_variants_against(p.endpoint(), std::move(both));
      });
  EXPECT_EQ(first_group, (std::vector<std::string>{"RSET\r\n", "MAIL FROM:<a@[127.0.0.1]>\r\n",
                                                   "RCPT TO:<x@far.test>\r\n"}));
  EXPECT_EQ(second_group, (std::vector<std::string>{"RSET\r\n", "MAIL FROM:<b@near.test>\r\n",
                                                    "RCPT TO:<y@far.test>\r\n"}));
  ASSERT_EQ(results.size(), 2u);
  // The refused MAIL is the outcome; its RCPT's 503 decides nothing.
  EXPECT_EQ(results[0].outcome, "MAIL");
  EXPECT_EQ(results[0].code, 501);
  EXPECT_FALSE(results[0].connection_lost);
  EXPECT_FALSE(results[0].reset_failed);
  // The second transaction read its own replies, not the first's 503.
  EXPECT_EQ(results[1].outcome, "TO");
  EXPECT_EQ(results[1].code, 554);
}

TEST(PipelinedTransaction, WithoutPipeliningEachCommandWaitsForItsReply) {
  LoopbackPeer p;
  std::vector<std::string> lines;
  std::vector<bool> early;  // a command already there when the previous reply was due
  TransactionResult result;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await open(s, buf, "250-mx.test\r\n250 SIZE 1000\r\n");
        for (const char* reply : {"250 2.0.0 Ok\r\n", "250 2.1.0 Ok\r\n"}) {
          lines.push_back(co_await receive_line(s, buf));
          // What the client sent ahead is in buf or the socket: it must not
          // have sent the next command before this reply.
          early.push_back(!buf.empty() || s.available() > 0);
          co_await send(s, reply);
        }
        lines.push_back(co_await receive_line(s, buf));
        co_await send(s, "554 5.7.1 Relay access denied\r\n");
      },
      [&]() -> asio::awaitable<void> {
        std::vector<Transaction> one{variant("<a@near.test>", "<x@far.test>")};
        auto results = co_await run_variants_against(p.endpoint(), std::move(one));
        result = results.at(0);
      });
  EXPECT_EQ(lines, (std::vector<std::string>{"RSET\r\n", "MAIL FROM:<a@near.test>\r\n",
                                             "RCPT TO:<x@far.test>\r\n"}));
  EXPECT_EQ(early, (std::vector<bool>{false, false}));
  EXPECT_EQ(result.outcome, "TO");
  EXPECT_EQ(result.code, 554);
}

TEST(PipelinedTransaction, AnUnansweredRsetIsAFailedResetNotAnOutcome) {
  LoopbackPeer p;
  TransactionResult result;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await open(s, buf, "250-mx.test\r\n250 PIPELINING\r\n");
        co_await receive_line(s, buf);
        co_await send(s, "421 4.7.0 Too many errors\r\n");
      },
      [&]() -> asio::awaitable<void> {
        std::vector<Transaction> one{variant("<a@near.test>", "<x@far.test>")};
        auto results = co_await run_variants_against(p.endpoint(), std::move(one));
        result = results.at(0);
      });
  EXPECT_TRUE(result.reset_failed);
  EXPECT_TRUE(result.connection_lost);
}

TEST(GreylistRetryVariants, OnlyTheVariantsNotSettledOnTheFirstTryAreSent) {
  LoopbackPeer p;
  std::vector<std::string> mails;
  store::Probe probe;
  probe.ip = "127.0.0.1";
  probe.token = new_token();
  ProbeTarget target;
  for (std::size_t i = 0; i < trick_count(); ++i) {
    if (i != 3) target.settled_variants.push_back(static_cast<std::uint8_t>(i));
  }
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        std::string buf;
        co_await open(s, buf, "250 mx.test\r\n");
        for (;;) {
          auto line = co_await receive_line(s, buf);
          if (line.empty()) break;
          if (line.starts_with("MAIL")) mails.push_back(line);
          co_await send(s, line.starts_with("RCPT") ? "554 5.7.1 Relay access denied\r\n"
                                                    : "250 2.0.0 Ok\r\n");
        }
      },
      [&]() -> asio::awaitable<void> {
        auto scope = net::ScopeGuard::loopback_only();
        auto options = quick();
        std::optional<client::SmtpClient> c;
        c.emplace(co_await asio::this_coro::executor, scope, options.client);
        co_await c->connect(p.endpoint());
        co_await c->greeting();
        co_await c->ehlo();
        TransactionResult last;
        co_await run_variants(c, scope, nullptr, options, target, probe, last);
      });
  ASSERT_EQ(probe.variants.size(), 1U);  // the others are the first try's (merge_greylist_retry)
  EXPECT_EQ(probe.variants[0].name, trick_name(3));
  EXPECT_EQ(probe.variants[0].code, 554);
  ASSERT_EQ(mails.size(), 1U);
  EXPECT_EQ(mails[0], "MAIL FROM:" + probe.variants[0].mail_from + "\r\n");
}

}  // namespace
}  // namespace relayscope::survey
