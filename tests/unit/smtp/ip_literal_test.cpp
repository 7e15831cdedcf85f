// The address-literal grammar of RFC 5321 4.1.3 and canonical formatting.
#include "smtp/ip_literal.hpp"

#include <gtest/gtest.h>

namespace relayscope::smtp {
namespace {

std::string v6(std::string_view s) {
  auto a = parse_ipv6(s);
  return a ? format_ipv6(*a) : "invalid";
}

TEST(IpLiteral, Ipv4) {
  EXPECT_EQ(format_ipv4(*parse_ipv4("192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(format_ipv4(*parse_ipv4("0.10.100.0")), "0.10.100.0");
  for (const char* bad :
       {"010.0.0.1", "10.0.0.01", "00.0.0.0", "127.000.000.001",  // octal to inet_aton
        "", "1", "1.2.3", "1.2.3.4.5", "256.0.0.0", "1.2.3.4.", ".1.2.3.4", "1..2.3", "0x7f.0.0.1",
        "1.2.3.0004", "1.2.3.a", " 1.2.3.4", "2130706433", "127.1"}) {
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
  }
}

TEST(IpLiteral, Ipv6AllRfc5321Forms) {
  // IPv6-full
  EXPECT_EQ(v6("2001:db8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(v6("2001:DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
  // IPv6-comp
  EXPECT_EQ(v6("::"), "::");
  EXPECT_EQ(v6("::1"), "::1");
  EXPECT_EQ(v6("1::"), "1::");
  EXPECT_EQ(v6("1:2:3::6:7:8"), "1:2:3::6:7:8");
  EXPECT_EQ(v6("1:2:3:4:5:6::"), "1:2:3:4:5:6::");
  EXPECT_EQ(v6("::3:4:5:6:7:8"), "::3:4:5:6:7:8");
  // IPv6v4-full
  EXPECT_EQ(v6("1:2:3:4:5:6:192.0.2.1"), "1:2:3:4:5:6:c000:201");
  EXPECT_EQ(v6("0:0:0:0:0:ffff:127.0.0.1"), "::ffff:127.0.0.1");
  // IPv6v4-comp
  EXPECT_EQ(v6("::192.0.2.1"), "::c000:201");
  EXPECT_EQ(v6("::ffff:127.0.0.1"), "::ffff:127.0.0.1");
  EXPECT_EQ(v6("1:2:3:4::192.0.2.1"), "1:2:3:4::c000:201");
  EXPECT_EQ(v6("1::2:3:4:192.0.2.1"), "1::2:3:4:c000:201");
}

TEST(IpLiteral, Ipv6Refused) {
  for (const char* bad : {"",
                          ":",
                          ":::",
                          "1",
                          "1:2:3:4:5:6:7",
                          "1:2:3:4:5:6:7:8:9",
                          "1:2:3:4:5:6:7::",
                          "::1:2:3:4:5:6:7",
                          "1:2:3:4:5:6::7",
                          "1::2::3",
                          "12345::",
                          "::g",
                          "1:2:3:4:5:6:7:8:",
                          ":1:2:3:4:5:6:7:8",
                          "1:2:3:4:5::1.2.3.4",
                          "1:2:3:4:5:1.2.3.4",
                          "1:2:3:4:5:6:7:1.2.3.4",
                          "::1.2.3",
                          "::1.2.3.256",
                          "1.2.3.4",
                          "::1.2.3.4:1",
                          "fe80::1%eth0",
                          " ::1",
                          "::1 "}) {
    EXPECT_FALSE(parse_ipv6(bad)) << bad;
  }
}

TEST(IpLiteral, Rfc5952Formatting) {
  EXPECT_EQ(v6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");     // first of equal runs
  EXPECT_EQ(v6("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");           // longest run
  EXPECT_EQ(v6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");  // one zero: not compressed
  EXPECT_EQ(v6("0:0:0:0:0:0:0:0"), "::");
  EXPECT_EQ(v6("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789"),
            "abcd:ef01:2345:6789:abcd:ef01:2345:6789");
}

}  // namespace
}  // namespace relayscope::smtp
