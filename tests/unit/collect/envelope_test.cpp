// Tying an arrival to its probe: envelope tags first, then the message (a
// returned one read with GMime); mail with no token is unmatched.
#include "collect/envelope.hpp"

#include <gtest/gtest.h>

#include "dsn_samples.hpp"

namespace relayscope::collect {
namespace {

using namespace samples;

Verdict classify(const std::string& from, const std::string& rcpt, const std::string& message) {
  return classify_envelope(from, {rcpt}, message, "probe", "relay-test");
}

TEST(Envelope, TagsDecideWhateverTheMessage) {
  auto v = classify("probe+" + T1 + "@collector.test", "relay-test+" + T2 + "@collector.test",
                    test_message);
  EXPECT_EQ(v.kind, "delivery");
  EXPECT_EQ(v.token, T2);
  v = classify("", "probe+" + T2 + "@collector.test", postfix_dsn);
  EXPECT_EQ(v.kind, "bounce");
  EXPECT_EQ(v.token, T2);
}

TEST(Envelope, UntaggedDsnsAreBouncesTiedByTheReturnedMessage) {
  for (const auto* dsn : {&postfix_dsn, &exim_dsn, &base64_whole_dsn, &headers_only_dsn}) {
    auto v = classify("", "probe@collector.test", *dsn);
    EXPECT_EQ(v.kind, "bounce") << *dsn;
    EXPECT_EQ(v.token, T1) << *dsn;
    EXPECT_FALSE(v.dsn_status.empty());
  }
}

TEST(Envelope, ADelayNoticeIsAWarningNotABounce) {
  // RFC 3464: only "failed" means the message came back; "delayed" may
  // still be delivered. Tagged or not, the notice is kept apart.
  auto v = classify("", "probe@collector.test", base64_body_dsn);
  EXPECT_EQ(v.kind, "warning");
  EXPECT_EQ(v.token, T2);
  EXPECT_EQ(v.dsn_action, "delayed");
  EXPECT_EQ(v.dsn_status, "4.4.7");
  v = classify("", "probe+" + T2 + "@collector.test", base64_body_dsn);
  EXPECT_EQ(v.kind, "warning");
  EXPECT_EQ(v.token, T2);
}

TEST(Envelope, ADsnFromANonNullSenderIsStillABounce) {
  // Broken MTAs send DSNs from postmaster, and to whatever address.
  auto v = classify("postmaster@relay.test", "relay-test@collector.test", exim_dsn);
  EXPECT_EQ(v.kind, "bounce");
  EXPECT_EQ(v.token, T1);
  EXPECT_EQ(v.dsn_action, "failed");
}

TEST(Envelope, PlainReturnToTheSenderIsABounce) {
  auto v = classify("", "probe@collector.test", plain_bounce);
  EXPECT_EQ(v.kind, "bounce");
  EXPECT_EQ(v.token, T1);
  EXPECT_TRUE(v.dsn_status.empty());
}

TEST(Envelope, RelayedTestMessageWithARewrittenEnvelopeIsADelivery) {
  auto v = classify("someone@relay.test", "relay-test@collector.test", test_message);
  EXPECT_EQ(v.kind, "delivery");
  EXPECT_EQ(v.token, T1);
}

TEST(Envelope, ADsnToATaggedRecipientIsABounceNotADelivery) {
  // The sender-equals-recipient variant makes a bouncing host return its
  // DSN to "relay-test+T@": the tag names the probe, but the host did not
  // relay, so the arrival is a bounce tied to T.
  auto v = classify("", "relay-test+" + T1 + "@collector.test", postfix_dsn);
  EXPECT_EQ(v.kind, "bounce");
  EXPECT_EQ(v.token, T1);
  EXPECT_EQ(v.dsn_action, "failed");
  v = classify("", "relay-test+" + T1 + "@collector.test", headers_only_dsn);
  EXPECT_EQ(v.kind, "bounce");
  EXPECT_EQ(v.token, T1);
  v = classify("", "relay-test+" + T2 + "@collector.test", base64_body_dsn);
  EXPECT_EQ(v.kind, "warning");
  EXPECT_EQ(v.token, T2);
}

TEST(Envelope, ATestMessageToATaggedRecipientIsADeliveryWhateverTheSender) {
  // The null-sender variant relays the test message itself from "<>".
  const std::string senders[] = {"", "someone@relay.test", "relay-test+" + T1 + "@collector.test"};
  for (const auto& from : senders) {
    auto v = classify(from, "relay-test+" + T1 + "@collector.test", test_message);
    EXPECT_EQ(v.kind, "delivery") << from;
    EXPECT_EQ(v.token, T1) << from;
  }
}

TEST(Envelope, NoTokenAnywhereIsUnmatched) {
  auto v = classify("someone@else.test", "relay-test@collector.test",
                    "Subject: not a probe\r\n\r\nhello\r\n");
  EXPECT_EQ(v.kind, "unmatched");
  EXPECT_TRUE(v.token.empty());
  v = classify("", "probe@collector.test", "Subject: bounce of nothing\r\n\r\nsorry\r\n");
  EXPECT_EQ(v.kind, "unmatched");
}

}  // namespace
}  // namespace relayscope::collect
