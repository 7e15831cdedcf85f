// At most one holder per address: a second claim fails or waits until the
// first holder releases; a waiting claim gives up when told to.
#include "survey/address_claims.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace relayscope::survey {
namespace {

TEST(AddressClaims, OneHolderAtATime) {
  asio::io_context io;
  AddressClaims claims(io.get_executor());
  EXPECT_TRUE(claims.try_claim("127.0.0.9"));
  EXPECT_FALSE(claims.try_claim("127.0.0.9"));
  EXPECT_TRUE(claims.try_claim("127.0.0.10"));
  EXPECT_EQ(claims.size(), 2u);
  claims.release("127.0.0.9");
  EXPECT_FALSE(claims.held("127.0.0.9"));
  EXPECT_TRUE(claims.held("127.0.0.10"));
  EXPECT_TRUE(claims.try_claim("127.0.0.9"));
}

TEST(AddressClaims, AWaitingClaimGetsTheAddressOnlyOnceReleased) {
  asio::io_context io;
  AddressClaims claims(io.get_executor());
  bool give_up = false;
  ASSERT_TRUE(claims.try_claim("127.0.0.9"));
  std::optional<bool> first, second;
  auto waiter = [&](std::optional<bool>& out) -> asio::awaitable<void> {
    out = co_await claims.claim("127.0.0.9", give_up);
  };
  asio::co_spawn(io, waiter(first), asio::detached);
  asio::co_spawn(io, waiter(second), asio::detached);
  io.poll();
  EXPECT_FALSE(first || second) << "claimed an address that was held";

  // Releasing another address wakes nobody into holding this one.
  ASSERT_TRUE(claims.try_claim("127.0.0.10"));
  claims.release("127.0.0.10");
  io.poll();
  EXPECT_FALSE(first || second);

  // One release: exactly one waiter gets it; the other keeps waiting.
  claims.release("127.0.0.9");
  io.poll();
  ASSERT_TRUE(first.has_value() != second.has_value());
  EXPECT_TRUE(first.value_or(false) || second.value_or(false));
  EXPECT_TRUE(claims.held("127.0.0.9"));

  // Stopping: the one still waiting gives up without holding anything.
  give_up = true;
  claims.wake_all();
  io.poll();
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
  EXPECT_EQ(claims.size(), 1u);
}

}  // namespace
}  // namespace relayscope::survey
