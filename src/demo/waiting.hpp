// What the demo says while it waits for late deliveries, and when it stops
// waiting: a pure step over the lab's and the collector's counts and a clock
// reading, so that tests drive it with made-up times (demo.cpp's loop looks
// every 50 ms and prints what a step returns).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace relayscope::demo {

// "relayscope demo: waiting for N late messages from the relaying hosts
// (S arriving now), up to T s more".
std::string waiting_line(std::size_t messages, std::size_t sessions, double seconds_left);

struct Waiting {
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline;
  Clock::time_point next_line;  // no line before this: one a second at most
  int quiet = 0;                // looks in a row with nothing in flight
  bool printed = false;         // a line was given: end it with a newline
};

// Nothing in flight for this many looks in a row ends the wait: a relaying
// host's delivery can start a moment after the last one ends.
inline constexpr int quiet_looks = 3;

Waiting start_waiting(Waiting::Clock::time_point now, std::chrono::seconds bound);

struct WaitStep {
  bool done = false;                // stop waiting (quiet, or the deadline passed)
  std::optional<std::string> line;  // the progress line to show now, if any
};

// One look: `pending` deliveries the lab's hosts still owe, `sessions` open
// at the collector. Lines only with `progress` and only while something is
// in flight.
WaitStep wait_step(Waiting& w, Waiting::Clock::time_point now, std::size_t pending,
                   std::size_t sessions, bool progress);

}  // namespace relayscope::demo
