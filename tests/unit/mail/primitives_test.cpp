// The shared mail primitives: RFC 5322 and ISO 8601 dates in UTC, the
// Received: line, strict base64 both ways, the one ADDR:PORT parser, and
// ASCII case.
#include <gtest/gtest.h>

#include <vector>

#include "common/ascii.hpp"
#include "mail/addr_port.hpp"
#include "mail/base64.hpp"
#include "mail/date.hpp"
#include "mail/received.hpp"

namespace relayscope::mail {
namespace {

TEST(MailDate, Rfc5322AndIso8601InUtc) {
  EXPECT_EQ(rfc5322_date(930960000), "Sat, 03 Jul 1999 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(iso8601_date(930960000 + 3723), "1999-07-03T01:02:03Z");
}

TEST(Received, FoldsAndNamesTheRecipientWhenThereIsOne) {
  ReceivedFields f{"client.test", "127.0.0.2", "mx.test",    "relayscope",
                   "ESMTPS",      "Q1",        "bob@x.test", 930960000};
  EXPECT_EQ(received_header(f),
            "Received: from client.test ([127.0.0.2])\r\n\tby mx.test (relayscope) with ESMTPS "
            "id Q1\r\n\tfor <bob@x.test>; Sat, 03 Jul 1999 00:00:00 +0000\r\n");
  f.helo.clear();
  f.recipient.clear();
  EXPECT_EQ(received_header(f),
            "Received: from unknown ([127.0.0.2])\r\n\tby mx.test (relayscope) with ESMTPS "
            "id Q1; Sat, 03 Jul 1999 00:00:00 +0000\r\n");
}

TEST(Base64, RoundTripsAndRefusesWhatIsNotStrict) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0user\0pass", 10)}) {
    auto d = base64_decode(base64_encode(s));
    ASSERT_TRUE(d) << s;
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(base64_encode("\xff\xfe"), "//4=");
  EXPECT_EQ(base64_encode(std::string("\0alice\0secret", 13)), "AGFsaWNlAHNlY3JldA==");
  EXPECT_FALSE(base64_decode("abc"));   // no padding
  EXPECT_FALSE(base64_decode("ab=c"));  // padding inside
  EXPECT_FALSE(base64_decode("a==="));  // too much padding
  EXPECT_FALSE(base64_decode("ab c"));  // outside the alphabet
}

TEST(AddrPort, ParsesV4AndBracketedV6) {
  auto a = parse_addr_port("127.0.0.1:25");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->to_string(), "127.0.0.1:25");
  auto b = parse_addr_port("[::1]:2525");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(*b->port, 2525);
  EXPECT_EQ(b->to_string(), "[::1]:2525");
}

TEST(AddrPort, ClearErrors) {
  auto error = [](std::string_view text, AddrPortRules rules = {}) {
    auto a = parse_addr_port(text, rules);
    return a ? std::string() : a.error().message;
  };
  EXPECT_NE(error("::1:25").find("brackets"), std::string::npos);
  EXPECT_NE(error("[::1").find("missing ']'"), std::string::npos);
  EXPECT_NE(error("[::1]25").find("':PORT'"), std::string::npos);
  EXPECT_NE(error("mx.test:25").find("not an IP address"), std::string::npos);
  EXPECT_NE(error("127.0.0.1").find("not ADDR:PORT"), std::string::npos);
  EXPECT_NE(error("127.0.0.1:0").find("port must be 1..65535"), std::string::npos);
  EXPECT_NE(error("127.0.0.1:65536").find("port must be"), std::string::npos);
  EXPECT_NE(error("127.0.0.1:2x").find("port must be"), std::string::npos);
  EXPECT_NE(error("127.0.0.1:").find("port must be"), std::string::npos);
  EXPECT_NE(error("127.0.0.1:99999999999999999999").find("port must be"), std::string::npos);
  EXPECT_EQ(error("127.0.0.1:0", {.port_zero = true}), "");
  auto bare = parse_addr_port("[::1]", {.port_optional = true});
  ASSERT_TRUE(bare);
  EXPECT_FALSE(bare->port);
}

TEST(Ascii, CaseWithoutTheLocale) {
  EXPECT_EQ(ascii::lower("MX.Example.TEST"), "mx.example.test");
  EXPECT_EQ(ascii::upper("ehlo\xc3\xa9"), "EHLO\xc3\xa9");  // bytes above ASCII untouched
  EXPECT_TRUE(ascii::iequals("Received", "rECEIVED"));
  EXPECT_FALSE(ascii::iequals("Received", "Receive"));
  EXPECT_TRUE(ascii::istarts_with("Received: x", "received:"));
}

}  // namespace
}  // namespace relayscope::mail
