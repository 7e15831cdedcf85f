#include "survey/sample.hpp"

#include <gtest/gtest.h>

#include <set>

namespace relayscope::survey {
namespace {

TEST(Sample, SameSeedSameSample) {
  EXPECT_EQ(sample_indices(1000, 50, 7), sample_indices(1000, 50, 7));
}

TEST(Sample, DifferentSeedsDiffer) {
  EXPECT_NE(sample_indices(1000, 50, 7), sample_indices(1000, 50, 8));
}

TEST(Sample, HasTheRequestedSizeWithoutDuplicates) {
  auto s = sample_indices(3844, 500, 1999);
  EXPECT_EQ(s.size(), 500u);
  EXPECT_EQ(std::set<std::size_t>(s.begin(), s.end()).size(), 500u);
  for (auto i : s) EXPECT_LT(i, 3844u);
}

TEST(Sample, AskingForMoreThanThereIsTakesAll) {
  auto s = sample_indices(10, 50, 1);
  EXPECT_EQ(s.size(), 10u);
}

TEST(Sample, IsRoughlyUniform) {
  // Each of 10 buckets of 100 items should get about a tenth of a 500 sample
  // summed over many seeds.
  std::vector<int> buckets(10);
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    for (auto i : sample_indices(1000, 100, seed)) ++buckets[i / 100];
  }
  for (int b : buckets) {
    EXPECT_GT(b, 1800);  // expected 2000
    EXPECT_LT(b, 2200);
  }
}

}  // namespace
}  // namespace relayscope::survey
