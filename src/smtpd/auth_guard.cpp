// See auth_guard.hpp. Memory stays bounded: an address keeps at most
// max_failures times, and addresses are forgotten once their window passes
// (swept whenever the table grows large).
#include "smtpd/auth_guard.hpp"

namespace relayscope::smtpd {

namespace {
constexpr std::size_t sweep_above = 100000;
}

void AuthGuard::expire(std::deque<Clock::time_point>& times, Clock::time_point now) const {
  while (!times.empty() && now - times.front() >= window_) times.pop_front();
}

bool AuthGuard::blocked(const std::string& address, Clock::time_point now) {
  auto it = failures_.find(address);
  if (it == failures_.end()) return false;
  expire(it->second, now);
  if (it->second.empty()) {
    failures_.erase(it);
    return false;
  }
  return it->second.size() >= max_failures_;
}

void AuthGuard::failed(const std::string& address, Clock::time_point now) {
  if (failures_.size() > sweep_above) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      expire(it->second, now);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
  }
  auto& times = failures_[address];
  expire(times, now);
  times.push_back(now);
  while (times.size() > max_failures_) times.pop_front();
}

}  // namespace relayscope::smtpd
