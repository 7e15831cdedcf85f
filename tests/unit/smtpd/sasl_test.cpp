// SASL for AUTH: the strict base64, PLAIN (RFC 4616) decoding with typed
// refusals, and the step-by-step PLAIN/LOGIN exchange.
#include "smtpd/sasl.hpp"

#include <gtest/gtest.h>

namespace relayscope::smtpd {
namespace {

using Kind = SaslExchange::Kind;

TEST(Sasl, Base64RoundTrip) {
  for (const std::string& s : {std::string(), std::string("a"), std::string("ab"),
                               std::string("abc"), std::string("abcd"), std::string("\0u\0p", 4)}) {
    auto e = base64_encode(s);
    auto d = base64_decode(e);
    ASSERT_TRUE(d) << e;
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(base64_encode("Username:"), "VXNlcm5hbWU6");
}

TEST(Sasl, Base64IsStrict) {
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("a=bc"));
  EXPECT_FALSE(base64_decode("ab=c"));
  EXPECT_FALSE(base64_decode("ab c"));
  EXPECT_FALSE(base64_decode("YQ==YQ=="));
}

TEST(Sasl, PlainDecodes) {
  auto c = decode_plain(base64_encode(std::string("\0alice\0secret", 13)));
  ASSERT_TRUE(c.credentials);
  EXPECT_EQ(c.credentials->user, "alice");
  EXPECT_EQ(c.credentials->password, "secret");
  auto same = decode_plain(base64_encode(std::string("alice\0alice\0secret", 18)));
  ASSERT_TRUE(same.credentials);
  EXPECT_EQ(same.credentials->user, "alice");
}

TEST(Sasl, PlainRefusalsAreTypedReplies) {
  auto proxy = decode_plain(base64_encode(std::string("bob\0alice\0secret", 16)));
  ASSERT_FALSE(proxy.credentials);
  EXPECT_EQ(proxy.refusal.code, 535);
  ASSERT_TRUE(proxy.refusal.status);
  EXPECT_EQ(proxy.refusal.status->to_string(), "5.7.8");
  for (auto bad : {base64_encode("alice secret"), base64_encode(std::string("\0\0secret", 8)),
                   base64_encode(std::string("\0a\0b\0c", 6)), std::string("not base64!")}) {
    auto r = decode_plain(bad);
    EXPECT_FALSE(r.credentials) << bad;
    EXPECT_EQ(r.refusal.code, 501) << bad;
  }
}

TEST(SaslExchange, PlainWithInitialResponseIsOneStep) {
  SaslExchange x;
  auto s = x.start("PLAIN " + base64_encode(std::string("\0alice\0pw", 9)));
  ASSERT_EQ(s.kind, Kind::credentials);
  EXPECT_EQ(s.credentials.user, "alice");
  EXPECT_EQ(s.credentials.password, "pw");
}

TEST(SaslExchange, PlainWithAChallenge) {
  SaslExchange x;
  auto s = x.start("plain");
  ASSERT_EQ(s.kind, Kind::challenge);
  EXPECT_EQ(s.challenge, "");
  s = x.respond(base64_encode(std::string("\0bob\0x", 6)));
  ASSERT_EQ(s.kind, Kind::credentials);
  EXPECT_EQ(s.credentials.user, "bob");
  // Finished: nothing more is taken.
  EXPECT_EQ(x.respond("anything").kind, Kind::refused);
}

TEST(SaslExchange, LoginAsksUserThenPassword) {
  SaslExchange x;
  auto s = x.start("LOGIN");
  ASSERT_EQ(s.kind, Kind::challenge);
  EXPECT_EQ(s.challenge, "VXNlcm5hbWU6");
  s = x.respond(base64_encode("alice"));
  ASSERT_EQ(s.kind, Kind::challenge);
  EXPECT_EQ(s.challenge, "UGFzc3dvcmQ6");
  s = x.respond(base64_encode("secret"));
  ASSERT_EQ(s.kind, Kind::credentials);
  EXPECT_EQ(s.credentials.user, "alice");
  EXPECT_EQ(s.credentials.password, "secret");
}

TEST(SaslExchange, LoginWithInitialUser) {
  SaslExchange x;
  auto s = x.start("LOGIN " + base64_encode("carol"));
  ASSERT_EQ(s.kind, Kind::challenge);
  EXPECT_EQ(s.challenge, "UGFzc3dvcmQ6");
  s = x.respond(base64_encode("pw"));
  ASSERT_EQ(s.kind, Kind::credentials);
  EXPECT_EQ(s.credentials.user, "carol");
}

TEST(SaslExchange, CancelAndGarbageAreRefusedWithTheirCodes) {
  SaslExchange a;
  a.start("LOGIN");
  auto s = a.respond("*");
  ASSERT_EQ(s.kind, Kind::refused);
  EXPECT_EQ(s.reply.code, 501);
  EXPECT_EQ(s.reply.status->to_string(), "5.0.0");

  SaslExchange b;
  b.start("LOGIN");
  s = b.respond("!!!!");
  ASSERT_EQ(s.kind, Kind::refused);
  EXPECT_EQ(s.reply.code, 501);

  SaslExchange c;
  s = c.start("CRAM-MD5");
  ASSERT_EQ(s.kind, Kind::refused);
  EXPECT_EQ(s.reply.code, 504);

  SaslExchange d;
  s = d.start("PLAIN *");
  ASSERT_EQ(s.kind, Kind::refused);
  EXPECT_EQ(s.reply.code, 501);

  SaslExchange e;  // an empty user name in LOGIN
  e.start("LOGIN");
  s = e.respond("");
  ASSERT_EQ(s.kind, Kind::refused);
  EXPECT_EQ(s.reply.code, 501);
}

TEST(SaslExchange, RespondWithoutStartIsRefused) {
  SaslExchange x;
  EXPECT_EQ(x.respond("x").kind, Kind::refused);
}

}  // namespace
}  // namespace relayscope::smtpd
