// The relay's log lines in Postfix's shape: fields, order and quoting.
#include "server/log_lines.hpp"

#include <gtest/gtest.h>

namespace relayscope::server::log_lines {
namespace {

TEST(LogLines, DelayHasPostfixPrecision) {
  EXPECT_EQ(delay(0), "0");
  EXPECT_EQ(delay(0.001), "0.01");
  EXPECT_EQ(delay(0.314), "0.31");
  EXPECT_EQ(delay(1.16), "1.2");
  EXPECT_EQ(delay(32.9), "32");
  EXPECT_EQ(delay(6035.4), "6035");
}

TEST(LogLines, NoqueueRejectNamesEveryField) {
  Refusal r;
  r.stage = "RCPT";
  r.client_ip = "127.0.0.1";
  r.reply = "554 5.7.1 <b@remote.test>: Relay access denied";
  r.from = "a@example.org";
  r.to = "b@remote.test";
  r.helo = "client.example.org";
  EXPECT_EQ(noqueue_reject(r),
            "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 554 5.7.1 <b@remote.test>: Relay "
            "access denied; from=<a@example.org> to=<b@remote.test> proto=ESMTP "
            "helo=<client.example.org>");
  Refusal syntax;
  syntax.stage = "MAIL";
  syntax.client_ip = "::1";
  syntax.reply = "501 5.1.7 Bad sender address syntax";
  syntax.proto = "SMTP";
  EXPECT_EQ(noqueue_reject(syntax),
            "NOQUEUE: reject: MAIL from unknown[::1]: 501 5.1.7 Bad sender address syntax; "
            "from=<> to=<> proto=SMTP helo=<>");
}

TEST(LogLines, DeliveryCarriesDelayDsnAndTheRemoteReply) {
  Delivery d;
  d.to = "bob@remote.test";
  d.relay = "127.0.0.1[127.0.0.1]:2601";
  d.delay_seconds = 1.234;
  d.delays = split_delay(1.234, 0.9, 0.3);
  d.dsn = "2.0.0";
  d.status = "sent";
  d.remote_reply = "250 2.0.0 Ok: queued as 4F2A";
  EXPECT_EQ(delivery("6566A1B2", d),
            "6566A1B2: to=<bob@remote.test>, relay=127.0.0.1[127.0.0.1]:2601, delay=1.2, "
            "delays=0.034/0.9/0/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4F2A)");
}

TEST(LogLines, DelaysArePostfixsFourPartsOfDelay) {
  // a is what the queue manager did not measure: arrival to hand-over.
  auto d = split_delay(5.0, 1.5, 0.3);
  EXPECT_NEAR(d.before_queue, 3.2, 1e-9);
  EXPECT_DOUBLE_EQ(d.in_queue, 1.5);
  EXPECT_DOUBLE_EQ(d.connection, 0);  // inside the courier's one duration: counted in d
  EXPECT_DOUBLE_EQ(d.transmission, 0.3);
  EXPECT_EQ(delays(d), "3.2/1.5/0/0.3");
  // The arrival stamp is whole seconds: a never goes below 0.
  auto early = split_delay(0.2, 0.1, 0.4);
  EXPECT_DOUBLE_EQ(early.before_queue, 0);
  EXPECT_EQ(delays(early), "0/0.1/0/0.4");
  // Parts under 10 ms read 0, as Postfix writes them; 10 s and more are whole.
  EXPECT_EQ(delays({0.004, 0.012, 0, 42.7}), "0/0.012/0/42");
  EXPECT_EQ(delays({}), "0/0/0/0");
}

TEST(LogLines, AHostileReplyStaysOnOneLine) {
  Delivery d;
  d.to = "x@y";
  d.status = "deferred";
  d.dsn = "4.0.0";
  d.remote_reply = "421 bye\r\nfake: to=<z>";
  auto line = delivery("ID", d);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("relay=none"), std::string::npos);
  EXPECT_NE(line.find("(421 bye??fake: to=<z>)"), std::string::npos);
}

TEST(LogLines, QueuedAndArrivalLinesStartWithTheQueueId) {
  Queued q;
  q.from = "";
  q.size = 1234;
  q.nrcpt = 2;
  q.tls = true;
  q.auth_user = "alice";
  EXPECT_EQ(queued("ABC", q),
            "ABC: from=<>, size=1234, nrcpt=2, tls=yes, auth=alice (queue active)");
  EXPECT_EQ(queue_client("ABC", "", "127.0.0.9"), "ABC: client=unknown[127.0.0.9]");
  Arrival a;
  a.token = "tok1";
  a.probe = "17";
  a.run = "3";
  a.result = "delivered";
  a.from = "probe@survey.test";
  a.client_ip = "127.0.0.5";
  EXPECT_EQ(arrival("C1", a),
            "C1: collect: token=tok1, probe=17, run=3, result=delivered, "
            "from=<probe@survey.test>, client=[127.0.0.5]");
  Arrival stray;
  stray.result = "unmatched";
  stray.client_ip = "127.0.0.6";
  EXPECT_EQ(arrival("C2", stray),
            "C2: collect: token=-, probe=-, run=-, result=unmatched, from=<>, client=[127.0.0.6]");
}

TEST(LogLines, CommandStageIsTheUpperCasedVerb) {
  EXPECT_EQ(command_stage("rcpt TO:<a@b>"), "RCPT");
  EXPECT_EQ(command_stage("MAIL FROM:<>"), "MAIL");
  EXPECT_EQ(command_stage("DATA"), "DATA");
  EXPECT_EQ(command_stage(""), "UNKNOWN");
  EXPECT_EQ(command_stage("\x16\x03\x01 tls hello"), "UNKNOWN");
  EXPECT_EQ(command_stage("GET / HTTP/1.1"), "GET");
  EXPECT_EQ(command_stage("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "UNKNOWN");
}

TEST(LogLines, CommandAddressIsWhatTheClientWrote) {
  EXPECT_EQ(command_address("RCPT TO:<bob@remote.test>"), "bob@remote.test");
  EXPECT_EQ(command_address("RCPT TO: <bob@remote.test> NOTIFY=NEVER"), "bob@remote.test");
  EXPECT_EQ(command_address("MAIL FROM:<>"), "");
  EXPECT_EQ(command_address("RCPT TO:bob@remote.test SIZE=1"), "bob@remote.test");
  EXPECT_EQ(command_address("RCPT TO:<unclosed@x"), "unclosed@x");
  EXPECT_EQ(command_address("RCPT bob"), "");
  // A hostile address stays on one line.
  EXPECT_EQ(command_address("RCPT TO:<a\x01"
                            "b>"),
            "a?b");
}

}  // namespace
}  // namespace relayscope::server::log_lines
