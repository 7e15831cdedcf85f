// Known recipients: users at every local domain, aliases (local part, full
// address, one-to-many, outside addresses, catch-all), postmaster always,
// unknown otherwise; loops end.
#include "server/recipients.hpp"

#include <gtest/gtest.h>

namespace relayscope::server {
namespace {

using V = std::vector<std::string>;

RecipientMap map_with(AliasTable aliases, std::set<std::string> users = {"alice", "bob"}) {
  return RecipientMap({"example.test", "other.test"}, std::move(aliases), std::move(users));
}

TEST(Recipients, UsersOwnTheirNameAtEveryLocalDomain) {
  auto m = map_with({});
  EXPECT_EQ(m.resolve("alice@example.test").maildirs, V{"alice@example.test"});
  EXPECT_EQ(m.resolve("Alice@OTHER.test").maildirs, V{"alice@other.test"});
  EXPECT_FALSE(m.resolve("carol@example.test").known());
  EXPECT_FALSE(m.resolve("alice@remote.test").known()) << "not a local domain";
  EXPECT_FALSE(m.resolve("alice").known());
}

TEST(Recipients, PostmasterAlwaysWorks) {
  auto m = map_with({});
  EXPECT_EQ(m.resolve("postmaster@example.test").maildirs, V{"postmaster@example.test"});
  EXPECT_EQ(m.resolve("PostMaster@other.test").maildirs, V{"postmaster@other.test"});
  auto aliased = map_with({{"postmaster", {"alice"}}});
  EXPECT_EQ(aliased.resolve("postmaster@other.test").maildirs, V{"alice@other.test"});
  // Without any users file: aliases and postmaster only.
  RecipientMap none({"example.test"}, {{"abuse", {"postmaster"}}}, {});
  EXPECT_EQ(none.resolve("postmaster@example.test").maildirs, V{"postmaster@example.test"});
  EXPECT_EQ(none.resolve("abuse@example.test").maildirs, V{"postmaster@example.test"});
  EXPECT_FALSE(none.resolve("alice@example.test").known());
}

TEST(Recipients, Aliases) {
  auto m = map_with({{"abuse", {"alice"}},
                     {"sales@example.test", {"alice", "bob"}},
                     {"help", {"carol@remote.test", "bob"}},
                     {"info@other.test", {"sales@example.test"}}});
  EXPECT_EQ(m.resolve("abuse@other.test").maildirs, V{"alice@other.test"});
  auto sales = m.resolve("sales@example.test");
  EXPECT_EQ(sales.maildirs, (V{"alice@example.test", "bob@example.test"}));
  EXPECT_TRUE(sales.forwards.empty());
  EXPECT_FALSE(m.resolve("sales@other.test").known()) << "a full-address alias is one domain's";
  auto help = m.resolve("help@example.test");
  EXPECT_EQ(help.forwards, V{"carol@remote.test"});
  EXPECT_EQ(help.maildirs, V{"bob@example.test"});
  EXPECT_EQ(m.resolve("info@other.test").maildirs, (V{"alice@example.test", "bob@example.test"}));
}

TEST(Recipients, AliasBeatsUserAndUserBeatsCatchAll) {
  auto m = map_with({{"bob", {"alice"}}, {"@example.test", {"alice"}}});
  EXPECT_EQ(m.resolve("bob@example.test").maildirs, V{"alice@example.test"});
  EXPECT_EQ(m.resolve("alice@example.test").maildirs, V{"alice@example.test"});
  EXPECT_EQ(m.resolve("anything@example.test").maildirs, V{"alice@example.test"});
  EXPECT_FALSE(m.resolve("anything@other.test").known()) << "the catch-all is one domain's";
  EXPECT_EQ(m.resolve("postmaster@example.test").maildirs, V{"postmaster@example.test"})
      << "postmaster has its own Maildir before any catch-all";
}

TEST(Recipients, LoopsEndWithNothing) {
  auto m = map_with({{"a", {"b"}}, {"b", {"a"}}, {"self", {"self"}}});
  EXPECT_FALSE(m.resolve("a@example.test").known());
  EXPECT_FALSE(m.resolve("self@example.test").known()) << "an alias naming itself is a loop";
  auto loop2 =
      map_with({{"x@example.test", {"y@example.test"}}, {"y@example.test", {"x@example.test"}}});
  EXPECT_FALSE(loop2.resolve("x@example.test").known());
}

TEST(Recipients, TargetsAreDeduplicated) {
  auto m = map_with({{"team", {"alice", "alice@example.test", "ALICE"}}});
  EXPECT_EQ(m.resolve("team@example.test").maildirs, V{"alice@example.test"});
}

}  // namespace
}  // namespace relayscope::server
