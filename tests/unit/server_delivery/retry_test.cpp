// The retry schedule: entries in turn after each failed attempt, the last
// one repeating.
#include <gtest/gtest.h>

#include "server/queue_manager.hpp"

namespace relayscope::server {
namespace {

using std::chrono::milliseconds;

TEST(RetryDelay, FollowsTheScheduleThenRepeatsItsLastEntry) {
  std::vector<milliseconds> s{milliseconds(1000), milliseconds(5000), milliseconds(60000)};
  EXPECT_EQ(retry_delay(s, 1), milliseconds(1000));
  EXPECT_EQ(retry_delay(s, 2), milliseconds(5000));
  EXPECT_EQ(retry_delay(s, 3), milliseconds(60000));
  EXPECT_EQ(retry_delay(s, 4), milliseconds(60000));
  EXPECT_EQ(retry_delay(s, 1000), milliseconds(60000));
}

TEST(RetryDelay, ZeroOrNegativeAttemptsUseTheFirstEntry) {
  std::vector<milliseconds> s{milliseconds(7), milliseconds(9)};
  EXPECT_EQ(retry_delay(s, 0), milliseconds(7));
  EXPECT_EQ(retry_delay(s, -3), milliseconds(7));
}

TEST(RetryDelay, AnEmptyScheduleStillWaits) {
  EXPECT_GT(retry_delay({}, 1), milliseconds(0));
}

}  // namespace
}  // namespace relayscope::server
