// RFC 5782 query names: reversed octets for IPv4, reversed nibbles for IPv6.
#include <gtest/gtest.h>

#include "server/dnsbl_check.hpp"

namespace relayscope::server {
namespace {

TEST(DnsblQueryName, Ipv4OctetsReversed) {
  auto a = IpAddress::parse("192.0.2.99");
  ASSERT_TRUE(a);
  EXPECT_EQ(dnsbl_query_name(*a, "bl.example"), "99.2.0.192.bl.example");
}

TEST(DnsblQueryName, Ipv6NibblesReversed) {
  // RFC 5782 section 2.4's example.
  auto a = IpAddress::parse("2001:db8:1:2:3:4:567:89ab");
  ASSERT_TRUE(a);
  EXPECT_EQ(dnsbl_query_name(*a, "ugly.example.com"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
}

}  // namespace
}  // namespace relayscope::server
