#include "common/seeded_rng.hpp"

#include <gtest/gtest.h>

namespace relayscope {
namespace {

TEST(SeededRng, SameSeedAndStreamSameSequence) {
  SeededRng a(42, "x"), b(42, "x");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(SeededRng, StreamsOfOneSeedDiffer) {
  SeededRng a(42, "x"), b(42, "y");
  EXPECT_NE(a.next(), b.next());
}

TEST(SeededRng, TheSequenceIsPinned) {
  // SplitMix64's published first output for seed 0: a change here would
  // change every seeded sample ever reported.
  SeededRng r(0);
  EXPECT_EQ(r.next(), 0xe220a8397b1dcdafULL);
}

TEST(SeededRng, BelowStaysInRangeAndCoversIt) {
  SeededRng r(7);
  std::vector<int> seen(7);
  for (int i = 0; i < 7000; ++i) {
    auto v = r.below(7);
    ASSERT_LT(v, 7u);
    ++seen[v];
  }
  for (int n : seen) EXPECT_GT(n, 800);
  EXPECT_EQ(r.below(1), 0u);
  EXPECT_EQ(r.below(0), 0u);
}

TEST(SeededRng, UnitIsInTheHalfOpenInterval) {
  SeededRng r(3);
  for (int i = 0; i < 1000; ++i) {
    auto u = r.unit();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace relayscope
