// Scanning manners (survey/special_purpose.hpp): which special-purpose ranges
// a scope lifts, and when a scope reaches the real Internet.
#include "survey/special_purpose.hpp"

#include <gtest/gtest.h>

#include "net/scope_guard.hpp"

namespace relayscope::survey {
namespace {

CidrSet set(const std::vector<std::string>& texts) {
  return *CidrSet::parse(texts);
}

bool excluded(const CidrSet& ranges, const char* ip) {
  return ranges.contains(*IpAddress::parse(ip));
}

TEST(SpecialPurpose, EveryRangeIsExcludedForAnUnrestrictedScope) {
  auto ranges = default_exclusions(CidrSet());
  EXPECT_EQ(ranges.blocks().size(), special_purpose_ranges().size());
  for (const char* ip :
       {"0.1.2.3",        "10.9.8.7",        "100.64.0.1",      "127.0.0.1",    "169.254.1.1",
        "172.31.255.255", "192.0.0.8",       "192.0.2.1",       "192.88.99.1",  "192.168.1.1",
        "198.19.0.1",     "198.51.100.7",    "203.0.113.9",     "224.0.0.251",  "239.1.2.3",
        "240.0.0.1",      "255.255.255.255", "::ffff:10.1.2.3", "::1",          "::",
        "64:ff9b::1",     "100::1",          "2001::1",         "2001:db8::25", "fd00::1",
        "fe80::1",        "ff02::1"}) {
    EXPECT_TRUE(excluded(ranges, ip)) << ip;
  }
  for (const char* ip :
       {"1.1.1.1", "8.8.8.8", "100.128.0.1", "172.32.0.1", "192.0.3.1", "198.20.0.1",
        "223.255.255.254", "2a00:1450::1", "2001:200::1", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(excluded(ranges, ip)) << ip;
  }
}

TEST(SpecialPurpose, AScopeWithinARangeLiftsThatRangeOnly) {
  auto ranges = default_exclusions(set({"127.0.0.0/8"}));
  EXPECT_FALSE(excluded(ranges, "127.0.0.1"));
  EXPECT_TRUE(excluded(ranges, "10.0.0.1"));
  ranges = default_exclusions(set({"2001:db8::/48", "::1/128"}));
  EXPECT_FALSE(excluded(ranges, "2001:db8::7"));
  EXPECT_FALSE(excluded(ranges, "::1"));
  EXPECT_TRUE(excluded(ranges, "fe80::1"));
  // A scope that holds a whole range asks for everything, not for it.
  ranges = default_exclusions(set({"0.0.0.0/0"}));
  EXPECT_TRUE(excluded(ranges, "192.168.0.1"));
  EXPECT_TRUE(excluded(ranges, "127.0.0.1"));
}

TEST(SpecialPurpose, ReachingTheInternet) {
  EXPECT_TRUE(reaches_beyond_special_purpose(CidrSet()));
  EXPECT_FALSE(reaches_beyond_special_purpose(set({"127.0.0.0/8"})));
  EXPECT_FALSE(reaches_beyond_special_purpose(set({"127.0.0.0/8", "::1/128", "2001:db8::/32"})));
  EXPECT_FALSE(reaches_beyond_special_purpose(set({"10.1.0.0/16", "192.168.7.0/24"})));
  EXPECT_TRUE(reaches_beyond_special_purpose(set({"127.0.0.0/8", "198.41.0.0/24"})));
  EXPECT_TRUE(reaches_beyond_special_purpose(set({"0.0.0.0/0"})));
  EXPECT_TRUE(reaches_beyond_special_purpose(set({"126.0.0.0/7"})));  // holds 127/8 and more
}

TEST(SpecialPurpose, TheNamedDnsServersAreSpared) {
  const std::vector<IpAddress> dns = {*IpAddress::parse("10.0.0.53"), *IpAddress::parse("fd00::53"),
                                      *IpAddress::parse("255.255.255.255")};
  auto blocks = without_addresses(default_exclusions(CidrSet()).blocks(), dns);
  CidrSet left(blocks);
  EXPECT_FALSE(excluded(left, "10.0.0.53"));
  EXPECT_FALSE(excluded(left, "fd00::53"));
  EXPECT_FALSE(excluded(left, "255.255.255.255"));
  for (const char* ip : {"10.0.0.52", "10.0.0.54", "10.0.0.0", "10.255.255.255", "10.128.0.1",
                         "fd00::52", "fdff::1", "fc00::1", "192.168.1.1"}) {
    EXPECT_TRUE(excluded(left, ip)) << ip;
  }
  // 10/8 less one address is 24 blocks, fc00::/7 less one 121, 240/4 less
  // the broadcast address 28; the broadcast's own /32 is gone.
  EXPECT_EQ(blocks.size(), special_purpose_ranges().size() - 4 + 24 + 121 + 28);
  // As the survey uses it: a plain exclusion list in the scope guard.
  std::vector<std::string> texts;
  for (const auto& b : blocks) texts.push_back(b.to_string());
  auto guard = *net::ScopeGuard::from_strings({}, texts);
  EXPECT_TRUE(guard.check("10.0.0.53"));
  EXPECT_FALSE(guard.check("10.0.0.54"));
  EXPECT_TRUE(guard.check("8.8.8.8"));
}

}  // namespace
}  // namespace relayscope::survey
