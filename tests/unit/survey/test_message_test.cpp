#include "survey/test_message.hpp"

#include <gtest/gtest.h>

namespace relayscope::survey {
namespace {

TEST(TestMessage, NamesHostTimeAndTokenWithCrlfLines) {
  TestMessageFields f;
  f.host_ip = "127.0.0.9";
  f.host_domain = "target.test";
  f.mail_from = "probe+tok@collector.test";
  f.rcpt_to = "relay-test+tok@collector.test";
  f.token = "tok123";
  f.timestamp = "Sat, 03 Jul 1999 10:00:00 +0000";
  auto m = build_test_message(f);
  EXPECT_NE(m.find("Subject: Relay test\r\n"), std::string::npos);
  EXPECT_NE(m.find("To: <relay-test+tok@collector.test>\r\n"), std::string::npos);
  EXPECT_NE(m.find("From: Relay test <probe+tok@collector.test>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Message-ID: <tok123@collector.test>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Host: 127.0.0.9\r\n"), std::string::npos);
  EXPECT_NE(m.find("Token: tok123\r\n"), std::string::npos);
  EXPECT_NE(m.find("Sent: Sat, 03 Jul 1999"), std::string::npos);
  // Every line ends in CRLF: no bare LF.
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(m[i - 1], '\r');
    }
  }
}

TEST(TestMessage, TokensAreFreshAndSafeInLocalParts) {
  auto a = new_token(), b = new_token();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 20u);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
}

TEST(TestMessage, TagsTheLocalPart) {
  EXPECT_EQ(tag_address("probe@x.test", "t1"), "probe+t1@x.test");
}

}  // namespace
}  // namespace relayscope::survey
