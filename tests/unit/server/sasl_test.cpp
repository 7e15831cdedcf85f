// SASL PLAIN (RFC 4616) and LOGIN decoding and the strict base64 under them.
#include "server/sasl.hpp"

#include <gtest/gtest.h>

namespace relayscope::server {
namespace {

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
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "secret");
  auto same = decode_plain(base64_encode(std::string("alice\0alice\0secret", 18)));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->user, "alice");
}

TEST(Sasl, PlainRefusesProxyAndMalformed) {
  auto proxy = decode_plain(base64_encode(std::string("bob\0alice\0secret", 16)));
  ASSERT_FALSE(proxy);
  EXPECT_EQ(proxy.error().message.rfind("535 ", 0), 0u);
  EXPECT_FALSE(decode_plain(base64_encode("alice secret")));
  EXPECT_FALSE(decode_plain(base64_encode(std::string("\0\0secret", 8))));
  EXPECT_FALSE(decode_plain(base64_encode(std::string("\0a\0b\0c", 6))));
  EXPECT_FALSE(decode_plain("not base64!"));
}

}  // namespace
}  // namespace relayscope::server
