// Returned mail read with GMime: DSN fields and the probe's token found in
// the returned message however it came back (see dsn_samples.hpp).
#include "collect/bounce_parser.hpp"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "dsn_samples.hpp"

namespace relayscope::collect {
namespace {

using namespace samples;

const TokenSpec spec;

TEST(BounceParser, PostfixDsnFieldsAndTheReturnedMessagesToken) {
  auto b = parse_bounce(postfix_dsn, spec);
  EXPECT_TRUE(b.parsed);
  EXPECT_TRUE(b.is_dsn);
  EXPECT_EQ(b.reporting_mta, "mx.relay.test");
  ASSERT_EQ(b.recipients.size(), 1u);
  EXPECT_EQ(b.recipients[0].final_recipient, "someone@elsewhere.test");
  EXPECT_EQ(b.recipients[0].original_recipient, "someone@elsewhere.test");
  EXPECT_EQ(b.recipients[0].action, "failed");
  EXPECT_EQ(b.recipients[0].status, "5.7.1");
  EXPECT_EQ(b.recipients[0].diagnostic, "smtp; 550 5.7.1 Relaying denied");
  EXPECT_TRUE(b.returned_message);
  EXPECT_FALSE(b.returned_headers_only);
  EXPECT_EQ(b.tokens, std::vector<std::string>{T1});
}

TEST(BounceParser, EximDsnWithAQuotedPrintableBodySplittingTheToken) {
  // Raw text holds the token only broken by a soft line break.
  EXPECT_TRUE(tokens_in_text(exim_dsn, spec).empty());
  auto b = parse_bounce(exim_dsn, spec);
  EXPECT_TRUE(b.is_dsn);
  EXPECT_EQ(b.reporting_mta, "exim.relay.test");
  ASSERT_EQ(b.recipients.size(), 1u);
  EXPECT_EQ(b.recipients[0].final_recipient, "someone@elsewhere.test");
  EXPECT_EQ(b.recipients[0].action, "failed");
  EXPECT_EQ(b.recipients[0].status, "5.0.0");
  EXPECT_TRUE(b.returned_message);
  EXPECT_EQ(b.tokens, std::vector<std::string>{T1});
}

TEST(BounceParser, ReturnedMessageSentBase64EncodedWhole) {
  EXPECT_TRUE(tokens_in_text(base64_whole_dsn, spec).empty());
  auto b = parse_bounce(base64_whole_dsn, spec);
  EXPECT_TRUE(b.is_dsn);
  ASSERT_EQ(b.recipients.size(), 1u);
  EXPECT_EQ(b.recipients[0].status, "5.4.1");
  EXPECT_TRUE(b.returned_message);
  EXPECT_EQ(b.tokens, std::vector<std::string>{T1});
}

TEST(BounceParser, ReturnedMessageWithABase64Body) {
  EXPECT_TRUE(tokens_in_text(base64_body_dsn, spec).empty());
  auto b = parse_bounce(base64_body_dsn, spec);
  EXPECT_TRUE(b.is_dsn);
  ASSERT_EQ(b.recipients.size(), 1u);
  EXPECT_EQ(b.recipients[0].final_recipient, "someone@elsewhere.test");
  EXPECT_EQ(b.recipients[0].action, "delayed");
  EXPECT_EQ(b.recipients[0].status, "4.4.7");
  EXPECT_EQ(b.tokens, std::vector<std::string>{T2});
}

TEST(BounceParser, OnlyTheHeadersCameBackWithAFoldedMessageId) {
  EXPECT_TRUE(tokens_in_text(headers_only_dsn, spec).empty());
  auto b = parse_bounce(headers_only_dsn, spec);
  EXPECT_TRUE(b.is_dsn);
  EXPECT_EQ(b.reporting_mta, "sendmail.relay.test");
  ASSERT_EQ(b.recipients.size(), 1u);
  EXPECT_EQ(b.recipients[0].status, "5.7.1");
  EXPECT_FALSE(b.returned_message);
  EXPECT_TRUE(b.returned_headers_only);
  EXPECT_EQ(b.tokens, std::vector<std::string>{T1});
}

TEST(BounceParser, PlainTextBounceIsNoDsnButItsCopyCarriesTheToken) {
  auto b = parse_bounce(plain_bounce, spec);
  EXPECT_TRUE(b.parsed);
  EXPECT_FALSE(b.is_dsn);
  EXPECT_TRUE(b.recipients.empty());
  EXPECT_EQ(b.tokens, std::vector<std::string>{T1});
}

TEST(BounceParser, TaggedRecipientInTheDeliveryStatusIsACandidate) {
  std::string dsn = postfix_dsn;
  auto at = dsn.find("Final-Recipient: rfc822; someone@elsewhere.test");
  ASSERT_NE(at, std::string::npos);
  dsn.replace(at, 47, "Final-Recipient: rfc822; relay-test+" + T2 + "@collector.test");
  auto b = parse_bounce(dsn, spec);
  ASSERT_EQ(b.recipients.size(), 1u);
  EXPECT_EQ(b.recipients[0].final_recipient, "relay-test+" + T2 + "@collector.test");
  // The returned message's own token first, then the DSN's recipient tag.
  EXPECT_EQ(b.tokens, (std::vector<std::string>{T1, T2}));
}

TEST(TokensInText, OnlyWholeTokensWhereTheSurveyPutsThem) {
  EXPECT_EQ(tokens_in_text("Token: " + T1 + "\r\n", spec), std::vector<std::string>{T1});
  EXPECT_EQ(tokens_in_text("to <Relay-Test+" + T1 + "@x.test>", spec),
            std::vector<std::string>{T1});
  EXPECT_EQ(tokens_in_text("message-id: <" + T1 + "@x.test>", spec), std::vector<std::string>{T1});
  // Not our base (a longer local part ending in it), too long, too short,
  // upper case, a Message-ID that is not ours.
  EXPECT_TRUE(tokens_in_text("xprobe+" + T1 + "@x.test", spec).empty());
  EXPECT_TRUE(tokens_in_text("Token: " + T1 + "z\r\n", spec).empty());
  EXPECT_TRUE(tokens_in_text("Token: " + T1.substr(1) + "\r\n", spec).empty());
  EXPECT_TRUE(tokens_in_text("Token: K3V9Q1M0X7C2B8N4Z6A5\r\n", spec).empty());
  EXPECT_TRUE(tokens_in_text("Message-ID: <" + T1 + "x@x.test>", spec).empty());
  EXPECT_TRUE(tokens_in_text("", spec).empty());
}

TEST(BounceParser, GarbageEmptyAndDeepNestingNeverCrash) {
  EXPECT_FALSE(parse_bounce("", spec).is_dsn);
  EXPECT_TRUE(parse_bounce("\r\n\r\n", spec).tokens.empty());
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string junk(static_cast<std::size_t>(rng() % 4096), '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    auto b = parse_bounce(junk, spec);
    EXPECT_TRUE(b.tokens.size() <= junk.size());
  }
  // Multiparts nested far deeper than we follow, the token at the bottom.
  std::string deep = "MIME-Version: 1.0\r\n";
  const int levels = 500;
  for (int i = 0; i < levels; ++i) {
    deep += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" +
            std::to_string(i) + "\r\n";
  }
  deep += "Content-Type: text/plain\r\n\r\nToken: " + T1 + "\r\n";
  for (int i = levels - 1; i >= 0; --i) deep += "--b" + std::to_string(i) + "--\r\n";
  auto b = parse_bounce(deep, spec);
  EXPECT_TRUE(b.parsed);
  EXPECT_TRUE(b.tokens.empty());  // beyond the depth limit: not followed
}

TEST(BounceParser, ParsesFromManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::vector<int> found(8, 0);
  for (std::size_t t = 0; t < found.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto b = parse_bounce(t % 2 ? exim_dsn : base64_whole_dsn, spec);
        if (b.tokens == std::vector<std::string>{T1}) ++found[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int n : found) EXPECT_EQ(n, 20);
}

}  // namespace
}  // namespace relayscope::collect
