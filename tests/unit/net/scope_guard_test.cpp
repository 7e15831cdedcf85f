#include "net/scope_guard.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace relayscope::net {
namespace {

TEST(ScopeGuard, EmptyScopeAllowsAnything) {
  ScopeGuard g;
  EXPECT_TRUE(g.check("203.0.113.7"));
  EXPECT_TRUE(g.unrestricted());
}

TEST(ScopeGuard, LoopbackOnlyRefusesEverythingElse) {
  auto g = ScopeGuard::loopback_only();
  EXPECT_TRUE(g.check("127.3.4.5"));
  auto off = g.check("192.0.2.1");
  ASSERT_FALSE(off);
  EXPECT_NE(off.error().message.find("192.0.2.1"), std::string::npos);
  EXPECT_TRUE(g.check("::1"));  // IPv6's loopback is the machine too
  EXPECT_FALSE(g.check("::2"));
  EXPECT_FALSE(g.check("2001:db8::25"));
  EXPECT_FALSE(g.check("not-an-ip"));
}

TEST(ScopeGuard, TakesIpv6ScopeAndExclusions) {
  auto g = ScopeGuard::from_strings({"2001:db8::/32", "127.0.0.0/8"}, {"2001:db8:bad::/48"});
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->check("2001:db8::25"));
  EXPECT_TRUE(g->check("2001:DB8:0:1::25"));
  EXPECT_TRUE(g->check("127.0.0.1"));
  auto excluded = g->check("2001:db8:bad::25");
  ASSERT_FALSE(excluded);
  EXPECT_NE(excluded.error().message.find("excluded"), std::string::npos);
  auto outside = g->check("2001:db9::25");
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("outside"), std::string::npos);
  // An IPv4-mapped address is the IPv4 address it reaches; otherwise an
  // IPv6 block never covers an IPv4 address, nor back.
  EXPECT_TRUE(g->check("::ffff:127.0.0.1"));
  EXPECT_FALSE(g->check("::ffff:192.0.2.1"));
  EXPECT_FALSE(ScopeGuard::from_strings({"::/0"})->check("192.0.2.1"));
  EXPECT_FALSE(ScopeGuard::from_strings({"2001:db8::/129"}));
}

TEST(ScopeGuard, ReadsIpv6LinesOfAnExclusionFile) {
  std::string path = ::testing::TempDir() + "/exclude6.txt";
  {
    std::ofstream f(path);
    f << "2001:db8:1::/48 # opted out\n2001:db8::99\n";
  }
  auto set = ScopeGuard::read_exclusion_file(path);
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains(*IpAddress::parse("2001:db8:1::7")));
  EXPECT_TRUE(set->contains(*IpAddress::parse("2001:db8::99")));
  EXPECT_FALSE(set->contains(*IpAddress::parse("2001:db8::98")));
}

TEST(ScopeGuard, ExclusionWinsOverScope) {
  auto g = ScopeGuard::from_strings({"127.0.0.0/8"}, {"127.0.0.66/32"});
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->check("127.0.0.65"));
  auto excluded = g->check("127.0.0.66");
  ASSERT_FALSE(excluded);
  EXPECT_NE(excluded.error().message.find("excluded"), std::string::npos);
}

TEST(ScopeGuard, ReadsAnExclusionFileWithComments) {
  std::string path = ::testing::TempDir() + "/exclude.txt";
  {
    std::ofstream f(path);
    f << "# blocklist\n127.0.0.0/24  # a comment\n\n  10.0.0.1\n";
  }
  auto set = ScopeGuard::read_exclusion_file(path);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->blocks().size(), 2u);
  EXPECT_TRUE(set->contains(*IpAddress::parse("127.0.0.200")));
  EXPECT_TRUE(set->contains(*IpAddress::parse("10.0.0.1")));
}

TEST(ScopeGuard, ABrokenExclusionFileNamesTheLine) {
  std::string path = ::testing::TempDir() + "/exclude-bad.txt";
  {
    std::ofstream f(path);
    f << "127.0.0.0/8\nnot a block\n";
  }
  auto set = ScopeGuard::read_exclusion_file(path);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message.find(":2:"), std::string::npos);
}

}  // namespace
}  // namespace relayscope::net
