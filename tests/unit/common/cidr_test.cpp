#include "common/cidr.hpp"

#include <gtest/gtest.h>

namespace relayscope {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndPrintsThemBack) {
  EXPECT_EQ(IpAddress::parse("127.0.0.1")->to_string(), "127.0.0.1");
  EXPECT_EQ(IpAddress::parse("::1")->to_string(), "::1");
  EXPECT_TRUE(IpAddress::parse("10.1.2.3")->is_v4);
  EXPECT_FALSE(IpAddress::parse("2001:db8::1")->is_v4);
}

TEST(IpAddress, RejectsWhatIsNotAnAddress) {
  for (const char* bad :
       {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "localhost", "1.2.3.4/8", " 1.2.3.4"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
}

TEST(IpAddress, MappedIpv4IsTheIpv4Address) {
  auto mapped = IpAddress::parse("::ffff:127.0.0.2");
  ASSERT_TRUE(mapped);
  EXPECT_TRUE(mapped->is_v4);
  EXPECT_TRUE(Cidr::parse("127.0.0.2/32")->contains(*mapped));
}

TEST(Cidr, ContainsAddressesInsideItsPrefixOnly) {
  auto c = Cidr::parse("127.0.0.0/8");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(*IpAddress::parse("127.255.1.2")));
  EXPECT_FALSE(c->contains(*IpAddress::parse("128.0.0.1")));
  EXPECT_FALSE(c->contains(*IpAddress::parse("::1")));
  auto odd = Cidr::parse("10.0.0.0/13");
  EXPECT_TRUE(odd->contains(*IpAddress::parse("10.7.255.255")));
  EXPECT_FALSE(odd->contains(*IpAddress::parse("10.8.0.0")));
  auto v6 = Cidr::parse("2001:db8::/32");
  EXPECT_TRUE(v6->contains(*IpAddress::parse("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("2001:db9::1")));
}

TEST(Cidr, ZeroPrefixContainsTheWholeFamily) {
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*IpAddress::parse("203.0.113.9")));
  EXPECT_FALSE(Cidr::parse("0.0.0.0/0")->contains(*IpAddress::parse("::2")));
}

TEST(Cidr, RejectsBadPrefixes) {
  for (const char* bad :
       {"127.0.0.0/33", "::/129", "127.0.0.0/", "127.0.0.0/x", "127.0.0.0/-1", "x/8"}) {
    EXPECT_FALSE(Cidr::parse(bad)) << bad;
  }
}

TEST(CidrSet, ParsesAllOrNothing) {
  EXPECT_TRUE(CidrSet::parse({"127.0.0.2/32", "::1/128"}));
  auto bad = CidrSet::parse({"127.0.0.2/32", "nonsense"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("nonsense"), std::string::npos);
}

}  // namespace
}  // namespace relayscope
