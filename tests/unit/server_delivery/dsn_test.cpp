// RFC 3464 DSN composition: the report's structure, per-recipient fields,
// and the returned message (whole, or its headers only past the size limit).
#include "server/dsn.hpp"

#include <gtest/gtest.h>

namespace relayscope::server {
namespace {

DsnInput input() {
  DsnInput in;
  in.reporting_mta = "mx.example.test";
  in.original_sender = "alice@example.test";
  in.queue_id = "ABC123";
  in.arrival = 1795400000;
  in.now = 1795400060;
  in.failed.push_back(
      {"bob@remote.test", "5.1.1", "550 5.1.1 <bob@remote.test>: no such user", "192.0.2.1"});
  in.original_message = "Subject: hi\r\nMessage-ID: <x@y>\r\n\r\nbody TOKEN\r\n";
  return in;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) {
    ++n;
  }
  return n;
}

TEST(Dsn, IsAMultipartReportWithThreeParts) {
  auto m = build_dsn(input());
  EXPECT_NE(m.find("Content-Type: multipart/report; report-type=delivery-status;"),
            std::string::npos);
  EXPECT_NE(m.find("From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("To: <alice@example.test>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
  auto b = m.find("boundary=\"");
  ASSERT_NE(b, std::string::npos);
  auto boundary = m.substr(b + 10, m.find('"', b + 10) - b - 10);
  EXPECT_EQ(count(m, "\r\n--" + boundary + "\r\n"), 3u);
  EXPECT_EQ(count(m, "\r\n--" + boundary + "--\r\n"), 1u);
  EXPECT_NE(m.find("Content-Type: message/delivery-status\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: message/rfc822\r\n"), std::string::npos);
}

TEST(Dsn, PerRecipientFields) {
  auto m = build_dsn(input());
  EXPECT_NE(m.find("Reporting-MTA: dns; mx.example.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Arrival-Date: "), std::string::npos);
  EXPECT_NE(m.find("\r\n\r\nFinal-Recipient: rfc822; bob@remote.test\r\nAction: failed\r\n"
                   "Status: 5.1.1\r\nRemote-MTA: dns; 192.0.2.1\r\n"
                   "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.test>: no such user\r\n"),
            std::string::npos)
      << m;
}

TEST(Dsn, OneGroupPerFailedRecipient) {
  auto in = input();
  in.failed.push_back({"carol@remote.test", "5.4.7", "delivery time expired", ""});
  auto m = build_dsn(in);
  EXPECT_EQ(count(m, "Final-Recipient: "), 2u);
  EXPECT_EQ(count(m, "Action: failed"), 2u);
  EXPECT_EQ(count(m, "Remote-MTA: "), 1u);  // none for a recipient no host answered for
}

TEST(Dsn, DiagnosticLineBreaksCannotInjectFields) {
  auto in = input();
  in.failed[0].diagnostic = "550 bad\r\nStatus: 2.0.0";
  auto m = build_dsn(in);
  EXPECT_EQ(m.find("\r\nStatus: 2.0.0"), std::string::npos);
}

TEST(Dsn, ReturnsTheWholeMessageWhenSmall) {
  auto m = build_dsn(input());
  EXPECT_NE(m.find("\r\n\r\nSubject: hi\r\nMessage-ID: <x@y>\r\n\r\nbody TOKEN\r\n"),
            std::string::npos);
}

TEST(Dsn, ReturnsOnlyTheHeadersOfALargeMessage) {
  auto in = input();
  in.max_returned = 10;
  auto m = build_dsn(in);
  EXPECT_NE(m.find("Content-Type: text/rfc822-headers\r\n"), std::string::npos);
  EXPECT_NE(m.find("Message-ID: <x@y>\r\n"), std::string::npos);
  EXPECT_EQ(m.find("body TOKEN"), std::string::npos);
}

TEST(Dsn, EveryLineEndsInCrlf) {
  auto m = build_dsn(input());
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(m[i - 1], '\r') << "bare LF at " << i;
    }
  }
}

}  // namespace
}  // namespace relayscope::server
