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
  EXPECT_FALSE(g.check("::1"));
  EXPECT_FALSE(g.check("not-an-ip"));
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
