// See waiting.hpp.
#include "demo/waiting.hpp"

#include <fmt/format.h>

namespace relayscope::demo {

std::string waiting_line(std::size_t messages, std::size_t sessions, double seconds_left) {
  return fmt::format(
      "relayscope demo: waiting for {} late message{} from the relaying hosts ({} arriving now), "
      "up to {:.0f} s more",
      messages, messages == 1 ? "" : "s", sessions, seconds_left);
}

Waiting start_waiting(Waiting::Clock::time_point now, std::chrono::seconds bound) {
  Waiting w;
  w.deadline = now + bound;
  w.next_line = now;
  return w;
}

WaitStep wait_step(Waiting& w, Waiting::Clock::time_point now, std::size_t pending,
                   std::size_t sessions, bool progress) {
  WaitStep step;
  if (now >= w.deadline) {
    step.done = true;
    return step;
  }
  bool in_flight = pending + sessions > 0;
  if (progress && in_flight && now >= w.next_line) {
    step.line =
        waiting_line(pending, sessions, std::chrono::duration<double>(w.deadline - now).count());
    w.printed = true;
    w.next_line = now + std::chrono::seconds(1);
  }
  w.quiet = in_flight ? 0 : w.quiet + 1;
  step.done = w.quiet >= quiet_looks;
  return step;
}

}  // namespace relayscope::demo
