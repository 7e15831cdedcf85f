#include "survey/test_message.hpp"

#include <gtest/gtest.h>

#include <set>

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

// --contact: the operator's opt-out address and sentence in a header and
// in the body, wrapped; none without it.
TEST(TestMessage, CarriesTheContactInAHeaderAndTheBody) {
  TestMessageFields f;
  f.mail_from = "probe+tok@collector.test";
  f.rcpt_to = "relay-test+tok@collector.test";
  f.token = "tok123";
  EXPECT_EQ(build_test_message(f).find("Contact"), std::string::npos);
  f.contact =
      "Open relay survey by the Example Lab, run once a month to count open relays; to opt "
      "out write to optout@example.org";
  auto m = build_test_message(f);
  EXPECT_NE(m.find("\r\nX-Relayscope-Contact: " + f.contact + "\r\n"), std::string::npos);
  auto body = m.substr(m.find("\r\n\r\n"));
  EXPECT_NE(body.find("About this survey, and to opt out:\r\nOpen relay survey"),
            std::string::npos);
  EXPECT_NE(body.find("optout@example.org\r\n"), std::string::npos);
  for (std::size_t at = 0, next; (next = body.find("\r\n", at)) != std::string::npos;
       at = next + 2) {
    EXPECT_LE(next - at, 76U) << body.substr(at, next - at);
  }
}

TEST(TestMessage, ContactMustBeOneLineWithAnAddress) {
  EXPECT_TRUE(check_contact("Relay survey by Example Lab; opt out: optout@example.org"));
  EXPECT_TRUE(check_contact("Relay survey, opt out at <optout@example.org>."));
  EXPECT_FALSE(check_contact("Relay survey by Example Lab"));  // no address
  EXPECT_FALSE(check_contact("opt out: nobody@localhost"));    // not a domain
  EXPECT_FALSE(check_contact("survey optout@example.org\r\nBcc: x@example.org"));
  EXPECT_FALSE(check_contact("survey optout@example.org \xe2\x82\xac"));
  EXPECT_FALSE(check_contact(std::string(401, 'a') + " optout@example.org"));
}

TEST(TestMessage, TokensAreFreshAndSafeInLocalParts) {
  auto a = new_token(), b = new_token();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 20u);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
}

TEST(TestMessage, VariantTokensFollowFromTheProbesTokenAndDifferPerVariant) {
  const auto probe = new_token(), other = new_token();
  std::set<std::string> seen{probe};
  for (std::size_t i = 0; i < 40; ++i) {
    const auto t = variant_token(probe, i);
    // A greylisting host's retry keeps the probe's token: the same variant
    // gets the same token, hence the same sender and recipient.
    EXPECT_EQ(t, variant_token(probe, i));
    EXPECT_NE(t, variant_token(other, i));
    EXPECT_TRUE(seen.insert(t).second) << i;
    EXPECT_EQ(t.size(), token_length);
    for (char c : t) {
      EXPECT_TRUE(std::islower(static_cast<unsigned char>(c)) ||
                  std::isdigit(static_cast<unsigned char>(c)));
    }
  }
}

TEST(TestMessage, TagsTheLocalPart) {
  EXPECT_EQ(tag_address("probe@x.test", "t1"), "probe+t1@x.test");
}

}  // namespace
}  // namespace relayscope::survey
