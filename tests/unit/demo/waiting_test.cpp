// The demo's wait for late deliveries: when it says what it waits for, what
// it says, and when it stops, driven with made-up clock readings.
#include "demo/waiting.hpp"

#include <gtest/gtest.h>

namespace relayscope::demo {
namespace {

using namespace std::chrono_literals;
const Waiting::Clock::time_point t0{};

TEST(DemoWaiting, TheLineSaysHowManyMessagesFromWhomAndForHowLong) {
  EXPECT_EQ(waiting_line(3, 1, 58.6),
            "relayscope demo: waiting for 3 late messages from the relaying hosts (1 arriving "
            "now), up to 59 s more");
  EXPECT_EQ(waiting_line(1, 0, 2),
            "relayscope demo: waiting for 1 late message from the relaying hosts (0 arriving "
            "now), up to 2 s more");
}

TEST(DemoWaiting, SaysWhatItWaitsForAtOnceThenOnceASecond) {
  auto w = start_waiting(t0, 60s);
  auto first = wait_step(w, t0, 2, 1, true);
  ASSERT_TRUE(first.line);
  EXPECT_EQ(*first.line,
            "relayscope demo: waiting for 2 late messages from the relaying hosts (1 arriving "
            "now), up to 60 s more");
  EXPECT_FALSE(first.done);
  EXPECT_FALSE(wait_step(w, t0 + 500ms, 2, 1, true).line);  // not twice in a second
  auto later = wait_step(w, t0 + 1s, 1, 0, true);
  ASSERT_TRUE(later.line);
  EXPECT_NE(later.line->find("waiting for 1 late message from"), std::string::npos);
  EXPECT_NE(later.line->find("up to 59 s more"), std::string::npos);
  EXPECT_TRUE(w.printed);
}

TEST(DemoWaiting, NothingInFlightOrNoTerminalMeansNoLine) {
  auto quiet = start_waiting(t0, 60s);
  EXPECT_FALSE(wait_step(quiet, t0, 0, 0, true).line);
  EXPECT_FALSE(quiet.printed);
  auto piped = start_waiting(t0, 60s);
  EXPECT_FALSE(wait_step(piped, t0, 5, 2, false).line);
  EXPECT_FALSE(piped.printed);
}

TEST(DemoWaiting, EndsAfterThreeQuietLooksInARow) {
  auto w = start_waiting(t0, 60s);
  EXPECT_FALSE(wait_step(w, t0, 0, 0, false).done);
  EXPECT_FALSE(wait_step(w, t0 + 50ms, 0, 0, false).done);
  // A delivery that starts late puts the count back to nothing.
  EXPECT_FALSE(wait_step(w, t0 + 100ms, 0, 1, false).done);
  EXPECT_FALSE(wait_step(w, t0 + 150ms, 0, 0, false).done);
  EXPECT_FALSE(wait_step(w, t0 + 200ms, 0, 0, false).done);
  EXPECT_TRUE(wait_step(w, t0 + 250ms, 0, 0, false).done);
}

TEST(DemoWaiting, EndsAtTheDeadlineWhateverIsStillInFlight) {
  auto w = start_waiting(t0, 60s);
  EXPECT_FALSE(wait_step(w, t0 + 59s, 4, 1, false).done);
  auto last = wait_step(w, t0 + 60s, 4, 1, true);
  EXPECT_TRUE(last.done);
  EXPECT_FALSE(last.line);
}

}  // namespace
}  // namespace relayscope::demo
