// AUTH failures per client address over time, across sessions (as Postfix's
// anvil smtpd_client_auth_rate_limit): an address with too many recent
// failures is told to come back later without its guess being checked, so
// guessing costs the attacker time and never queues real users' logins
// behind its password hashes. Pure apart from the time it is given.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

namespace relayscope::smtpd {

class AuthGuard {
 public:
  using Clock = std::chrono::steady_clock;
  AuthGuard(std::size_t max_failures, std::chrono::milliseconds window)
      : max_failures_(max_failures), window_(window) {}

  // True when `address` may not try now.
  bool blocked(const std::string& address, Clock::time_point now);
  void failed(const std::string& address, Clock::time_point now);
  std::size_t tracked() const { return failures_.size(); }

 private:
  void expire(std::deque<Clock::time_point>& times, Clock::time_point now) const;
  std::size_t max_failures_;
  std::chrono::milliseconds window_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> failures_;
};

}  // namespace relayscope::smtpd
