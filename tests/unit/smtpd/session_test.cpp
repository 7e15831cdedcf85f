// The one server session, run in memory: each defect of issue 11 with the
// behaviour that fixes it (each of these failed on the old relay session).
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>

#include "smtpd/auth_guard.hpp"
#include "smtpd/input_buffer.hpp"
#include "smtpd/memory_stream.hpp"
#include "smtpd/sasl.hpp"
#include "test_policy.hpp"

namespace relayscope::smtpd {
namespace {

using test::fast_settings;

struct Rig {
  test::LocalOnly policy;
  MemorySink sink;
  DialogueResult go(const std::string& script, const SessionSettings& s,
                    const std::function<void(MemoryStream&)>& setup = {}) {
    return run_dialogue(script, s, policy, sink, std::chrono::seconds(10), setup);
  }
};

const char* envelope_script =
    "S: 220\nC: EHLO client.test\nS: 250\nC: MAIL FROM:<a@remote.test>\nS: 250\n"
    "C: RCPT TO:<bob@local.test>\nS: 250\n";

TEST(Session, StaleReadinessIsNotTalkingBeforeTheGreeting) {
  // A readiness event with no byte behind it (a reused descriptor's) used
  // to be taken as data: the client was refused with 554.
  auto s = fast_settings();
  s.greet_pause = std::chrono::milliseconds(100);
  Rig r;
  auto res = r.go("S: 220 mx.test\nC: QUIT\nS: 221\n", s,
                  [](MemoryStream& m) { m.set_stale_readiness(true); });
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
}

TEST(Session, BytesBeforeTheGreetingAreRefused) {
  auto s = fast_settings();
  s.greet_pause = std::chrono::milliseconds(2000);
  Rig r;
  auto res = r.go("C: EHLO eager.test\nS: 554 5.5.0\nS: ~\n", s);
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
}

TEST(Session, ImplicitTlsClientsMaySpeakFirst) {
  auto s = fast_settings();
  s.greet_pause = std::chrono::milliseconds(2000);
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  s.tls = &ctx;
  s.implicit_tls = true;
  Rig r;
  auto res = r.go("C: EHLO eager.test\nS: 220\nS: 250\nC: QUIT\nS: 221\n", s);
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
}

TEST(Session, DataStreamsToTheSinkInBoundedChunks) {
  auto s = fast_settings();
  s.max_message_size = 8 * 1024 * 1024;
  std::string body;
  for (int i = 0; i < 40000; ++i) body += "line " + std::to_string(i) + " of a long message\r\n";
  std::string escaped;  // the script is lines: its CRLFs are written as escapes
  for (char c : body)
    escaped += c == '\r' ? std::string("\\r") : c == '\n' ? std::string("\\n") : std::string(1, c);
  Rig r;
  auto res = r.go(std::string(envelope_script) + "C: DATA\nS: 354\nC! " + escaped +
                      "\nC: .\nS: 250\n" + "C: QUIT\nS: 221\n",
                  s);
  ASSERT_TRUE(res.ok) << res.failure;
  ASSERT_EQ(r.sink.messages.size(), 1u);
  EXPECT_EQ(r.sink.messages[0], body);
  // The session never handed (so never held) more than a chunk and a read.
  EXPECT_LE(r.sink.largest_chunk, s.data_chunk + 16 * 1024);
  EXPECT_GT(body.size(), 10 * r.sink.largest_chunk);
}

TEST(Session, ReadBufferStartsSmallGrowsForTheMessageAndShrinksAfterIt) {
  // It used to be 16 KiB per session from the first command on, kept for
  // the session's life: 160 MB for 10,000 idle sessions.
  auto s = fast_settings();
  std::string escaped;
  for (int i = 0; i < 4000; ++i) escaped += "line " + std::to_string(i) + " of the message\\r\\n";
  std::vector<std::size_t> reads;
  Rig r;
  auto res = r.go(std::string(envelope_script) + "C: DATA\nS: 354\nC! " + escaped +
                      "\nC: .\nS: 250\nC: QUIT\nS: 221\n",
                  s, [&reads](MemoryStream& m) { m.record_reads(&reads); });
  ASSERT_TRUE(res.ok) << res.failure;
  ASSERT_EQ(r.sink.messages.size(), 1u);
  ASSERT_GE(reads.size(), 3u);
  EXPECT_EQ(reads.front(), InputBuffer::min_read);  // EHLO: a small read
  EXPECT_EQ(*std::max_element(reads.begin(), reads.end()), InputBuffer::max_read);  // the message
  EXPECT_EQ(reads.back(), InputBuffer::min_read);  // QUIT, after DATA: small again
}

TEST(Session, DataHasOneDeadlineNotOnePerRead) {
  // A byte every 20 ms used to restart the DATA timeout for ever.
  auto s = fast_settings();
  s.data_timeout = std::chrono::milliseconds(300);
  asio::io_context io;
  MemoryStream stream(io.get_executor());
  test::LocalOnly policy;
  MemorySink sink;
  ClientInfo client;
  client.address = "192.0.2.9";
  bool done = false;
  auto session = [&]() -> asio::awaitable<void> {
    co_await run_session(stream, client, s, policy, sink);
    done = true;
  };
  auto trickle = [&]() -> asio::awaitable<void> {
    stream.feed("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@local.test>\r\n");
    // Wait for the three replies (the RCPT's is the last) before DATA.
    while (stream.output().find("2.1.5") == std::string::npos) {
      co_await stream.wait_output(stream.output().size(), Clock::now() + std::chrono::seconds(5));
    }
    stream.feed("DATA\r\n");
    asio::steady_timer t(io);
    for (int i = 0; i < 100 && !done; ++i) {
      t.expires_after(std::chrono::milliseconds(20));
      co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      stream.feed("x");
    }
  };
  asio::co_spawn(io, session(), asio::detached);
  asio::co_spawn(io, trickle(), asio::detached);
  auto started = Clock::now();
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(done);
  EXPECT_NE(stream.output().find("421 4.4.2"), std::string::npos) << stream.output();
  EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(1500));
  EXPECT_TRUE(sink.messages.empty());
}

TEST(Session, UnauthenticatedPipeliningOfTheMessageIsDropped) {
  Rig r;
  auto res = r.go(
      "S: 220\nC: EHLO c.test\nS: 250\nC: MAIL FROM:<a@b.test>\nC: RCPT TO:<x@local.test>\n"
      "C: DATA\nC: Subject: smuggled\nC: \nC: hi\nC: .\nS: 250\nS: 250\nS: 554 5.5.0\nS: ~\n",
      fast_settings());
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  EXPECT_TRUE(r.sink.messages.empty());
}

TEST(Session, PipeliningUpToDataIsFine) {
  Rig r;
  auto res = r.go(
      "S: 220\nC: EHLO c.test\nS: 250\nC: MAIL FROM:<a@b.test>\nC: RCPT TO:<x@local.test>\n"
      "C: DATA\nS: 250\nS: 250\nS: 354\nC: hi\nC: .\nS: 250\nC: QUIT\nS: 221\n",
      fast_settings());
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  EXPECT_EQ(r.sink.messages.size(), 1u);
}

TEST(Session, NulInTheMessageIsRefused) {
  Rig r;
  auto res = r.go(std::string(envelope_script) +
                      "C: DATA\nS: 354\nC: a\\x00b\nC: .\nS: 550 5.6.0\nC: QUIT\nS: 221\n",
                  fast_settings());
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  EXPECT_TRUE(r.sink.messages.empty());
}

TEST(Session, OverlongLineBehindTheEndOfDataKeepsTheCommandsAfterIt) {
  Rig r;
  auto res = r.go(
      std::string(envelope_script) + "C: DATA\nS: 354\nC: hi\nC: .\nC: " + std::string(5000, 'x') +
          "\nC: NOOP\nC: HELP\nC: QUIT\n" + "S: 250\nS: 500 5.5.6\nS: 250\nS: 214\nS: 221\n",
      fast_settings());
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
}

TEST(Session, LinesOver1000OctetsInTheMessageAreAccepted) {
  Rig r;
  std::string line(1900, 'y');
  auto res = r.go(std::string(envelope_script) + "C: DATA\nS: 354\nC: " + line +
                      "\nC: .\nS: 250\nC: QUIT\nS: 221\n",
                  fast_settings());
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  ASSERT_EQ(r.sink.messages.size(), 1u);
  EXPECT_EQ(r.sink.messages[0], line + "\r\n");
}

TEST(Session, JunkCommandsEndTheSession) {
  auto s = fast_settings();
  s.max_junk = 5;
  std::string script = "S: 220\n";
  for (int i = 0; i < 5; ++i) script += "C: NOOP\nS: 250\n";
  script += "C: NOOP\nS: 421 4.7.0\nS: ~\n";
  Rig r;
  auto res = r.go(script, s);
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
}

TEST(Session, RecipientOvershootEndsTheSession) {
  auto s = fast_settings();
  s.max_recipients = 2;
  s.recipient_overshoot = 3;
  std::string script = "S: 220\nC: EHLO c\nS: 250\nC: MAIL FROM:<a@b.test>\nS: 250\n";
  script += "C: RCPT TO:<a@local.test>\nS: 250\nC: RCPT TO:<b@local.test>\nS: 250\n";
  for (int i = 0; i < 3; ++i) script += "C: RCPT TO:<c@local.test>\nS: 452 4.5.3\n";
  script += "C: RCPT TO:<d@local.test>\nS: 421\nS: ~\n";
  Rig r;
  auto res = r.go(script, s);
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
}

TEST(Session, ControlCharactersAreEscapedInReplies) {
  Rig r;
  auto res =
      r.go("S: 220\nC: EHLO a\\x1b[31mb\\x07\nS: 250-mx.test greets a?[31mb?\nC: QUIT\nS: 221\n",
           fast_settings());
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  EXPECT_EQ(res.transcript.find('\x1b'), std::string::npos);
}

TEST(Session, LongEhloNameIsBoundedInTheEnvelope) {
  Rig r;
  auto res = r.go("S: 220\nC: EHLO " + std::string(1900, 'h') +
                      "\nS: 250\nC: MAIL FROM:<a@b.test>\nS: 250\nC: RCPT TO:<x@local.test>\nS: "
                      "250\nC: DATA\nS: 354\nC: .\nS: 250\nC: QUIT\nS: 221\n",
                  fast_settings());
  ASSERT_TRUE(res.ok) << res.failure;
  ASSERT_EQ(r.sink.envelopes.size(), 1u);
  EXPECT_LE(r.sink.envelopes[0].helo.size(), 255u);
}

TEST(Session, FailedSinkWriteIs451AndNothingKept) {
  Rig r;
  r.sink.fail_writes = true;
  std::string big(200 * 1024, 'z');
  auto res = r.go(std::string(envelope_script) + "C: DATA\nS: 354\nC: " + big +
                      "\nC: .\nS: 451 4.3.0\nC: QUIT\nS: 221\n",
                  fast_settings());
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript.substr(0, 400);
  EXPECT_TRUE(r.sink.messages.empty());
}

TEST(Session, AuthFailuresAreLimitedPerAddressAcrossSessions) {
  auto s = fast_settings();
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  s.tls = &ctx;
  test::FakeAuth auth;
  s.auth = &auth;
  AuthGuard guard(2, std::chrono::minutes(10));
  s.auth_guard = &guard;
  auto wrong = "AUTH PLAIN " + base64_encode(std::string("\0alice\0nope", 11));
  std::string one =
      "S: 220\nC: EHLO c\nS: 250\nC: STARTTLS\nS: 220\nC: EHLO c\nS: 250\nC: " + wrong +
      "\nS: 535 5.7.8\nC: QUIT\nS: 221\n";
  Rig r;
  ASSERT_TRUE(r.go(one, s).ok);
  ASSERT_TRUE(r.go(one, s).ok);
  EXPECT_EQ(auth.calls, 2);
  // A third session from the same address is turned away unchecked.
  auto third =
      r.go("S: 220\nC: EHLO c\nS: 250\nC: STARTTLS\nS: 220\nC: EHLO c\nS: 250\nC: " + wrong +
               "\nS: 421 4.7.0\nS: ~\n",
           s);
  EXPECT_TRUE(third.ok) << third.failure << "\n" << third.transcript;
  EXPECT_EQ(auth.calls, 2);
}

TEST(Session, EveryAuthAnswerTakesTheSameTime) {
  auto s = fast_settings();
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  s.tls = &ctx;
  test::FakeAuth auth;
  s.auth = &auth;
  s.auth_answer_time = std::chrono::milliseconds(200);
  auto timed = [&](const std::string& user, const std::string& pass, const std::string& code) {
    auto creds = "AUTH PLAIN " + base64_encode(std::string(1, '\0') + user + '\0' + pass);
    Rig r;
    auto start = Clock::now();
    auto res =
        r.go("S: 220\nC: EHLO c\nS: 250\nC: STARTTLS\nS: 220\nC: EHLO c\nS: 250\nC: " + creds +
                 "\nS: " + code + "\n",
             s);
    EXPECT_TRUE(res.ok) << res.failure;
    return Clock::now() - start;
  };
  EXPECT_GE(timed("alice", "secret", "235"), std::chrono::milliseconds(200));
  EXPECT_GE(timed("alice", "wrong", "535"), std::chrono::milliseconds(200));
  EXPECT_GE(timed("nobody", "wrong", "535"), std::chrono::milliseconds(200));
}

// Reply text as policy data (what the lab's hosts need), and the raw
// MAIL/RCPT line seen before the parser judges it.
class Imitator final : public SessionPolicy {
 public:
  std::optional<smtp::Reply> raw_command(const SessionView&, std::string_view line) override {
    if (line.find("%") != std::string_view::npos) return make_reply(250, "2.1.5 trick taken");
    return std::nullopt;
  }
  std::optional<smtp::Reply> check_recipient(const SessionView&, const smtp::Path&) override {
    return make_reply(550, "5.7.1 Unable to relay");
  }
  void shape_reply(const SessionView&, smtp::Verb verb, smtp::Reply& r) override {
    if (verb == smtp::Verb::noop) r = make_reply(250, "OK, nothing done");
  }
};

TEST(Session, PolicyShapesRepliesAndSeesRawLines) {
  Imitator policy;
  MemorySink sink;
  auto res = run_dialogue(
      "S: 220\nC: EHLO c\nS: 250\nC: NOOP\nS: 250 OK, nothing done\nC: MAIL FROM:<a@b.test>\n"
      "S: 250\nC: RCPT TO:<x%y.test@z.test\nS: 250 2.1.5 trick taken\n"
      "C: RCPT TO:<x@y.test>\nS: 550 5.7.1 Unable\nC: DATA\nS: 354\nC: hi\nC: .\nS: 250\n"
      "C: QUIT\nS: 221\n",
      fast_settings(), policy, sink);
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  ASSERT_EQ(sink.envelopes.size(), 1u);
  // A line the parser refuses (no closing '>') reached the policy as written.
  EXPECT_EQ(sink.envelopes[0].recipients, std::vector<std::string>{"<x%y.test@z.test"});
}

TEST(AuthGuard, FailuresExpireWithTheirWindow) {
  AuthGuard g(3, std::chrono::seconds(60));
  auto t = AuthGuard::Clock::now();
  for (int i = 0; i < 3; ++i) g.failed("192.0.2.1", t);
  EXPECT_TRUE(g.blocked("192.0.2.1", t));
  EXPECT_FALSE(g.blocked("192.0.2.2", t));
  EXPECT_FALSE(g.blocked("192.0.2.1", t + std::chrono::seconds(61)));
  EXPECT_EQ(g.tracked(), 0u);
}

}  // namespace
}  // namespace relayscope::smtpd
