// Senders bound to logins: own addresses at every local domain, [senders]
// grants (addresses and whole domains), nothing else; case-insensitive.
#include "server/sender_binding.hpp"

#include <gtest/gtest.h>

namespace relayscope::server {
namespace {

SenderBinding binding() {
  return SenderBinding({"example.test", "other.test"},
                       {{"alice", {"sales@example.test", "@alice.test"}}});
}

TEST(SenderBinding, OwnAddresses) {
  auto b = binding();
  EXPECT_TRUE(b.may_send_as("alice", "alice@example.test"));
  EXPECT_TRUE(b.may_send_as("alice", "ALICE@Other.Test"));
  EXPECT_TRUE(b.may_send_as("Alice", "alice@example.test"));
  EXPECT_FALSE(b.may_send_as("alice", "alice@remote.test")) << "not a local domain";
  EXPECT_FALSE(b.may_send_as("alice", "bob@example.test"));
  EXPECT_FALSE(b.may_send_as("bob", "alice@example.test"));
  EXPECT_FALSE(b.may_send_as("alice", "ceo@bigbank.test"));
}

TEST(SenderBinding, Grants) {
  auto b = binding();
  EXPECT_TRUE(b.may_send_as("alice", "Sales@Example.test"));
  EXPECT_FALSE(b.may_send_as("bob", "sales@example.test"));
  EXPECT_TRUE(b.may_send_as("alice", "anyone@alice.test"));
  EXPECT_FALSE(b.may_send_as("alice", "anyone@sub.alice.test"));
}

TEST(SenderBinding, NullSenderAndOddInput) {
  auto b = binding();
  EXPECT_TRUE(b.may_send_as("alice", ""));
  EXPECT_FALSE(b.may_send_as("", "alice@example.test"));
  EXPECT_FALSE(b.may_send_as("alice", "alice"));
  EXPECT_FALSE(b.may_send_as("alice", "@example.test"));
  EXPECT_FALSE(b.may_send_as("alice", "alice@"));
}

TEST(SenderBinding, FromHeaderNeedsEveryAddress) {
  auto b = binding();
  EXPECT_TRUE(b.may_send_as_all("alice", {"alice@example.test", "sales@example.test"}));
  EXPECT_FALSE(b.may_send_as_all("alice", {"alice@example.test", "ceo@bigbank.test"}));
  EXPECT_FALSE(b.may_send_as_all("alice", {}));
  EXPECT_FALSE(b.may_send_as_all("alice", {""})) << "an empty From: address is no author";
}

}  // namespace
}  // namespace relayscope::server
