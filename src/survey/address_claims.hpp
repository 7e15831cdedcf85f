// "At most one connection at a time to any one address" (DESIGN.md), kept by
// the probe scheduler: a probe holds every address it may connect to, its
// host's own before it starts and a fallback MX's just before trying it, and
// releases them when it ends. An address is held by one probe at a time.
// A probe waits for its host's address (it holds nothing while it waits, so
// no two probes can wait on each other); a fallback that is held is skipped,
// never waited for, since its holder may be waiting in turn for ours.
#pragma once

#include <asio.hpp>
#include <cstddef>
#include <string>
#include <unordered_set>

namespace relayscope::survey {

class AddressClaims {
 public:
  explicit AddressClaims(asio::any_io_executor ex);

  // Holds `ip` if no probe does; false (and nothing held) otherwise.
  bool try_claim(const std::string& ip);
  // Waits until `ip` is free and holds it; false without holding it when
  // `give_up` turned true (see wake_all).
  asio::awaitable<bool> claim(const std::string& ip, const bool& give_up);
  void release(const std::string& ip);
  // Wakes every waiting claim to look at `give_up` again.
  void wake_all() { released_.cancel(); }

  bool held(const std::string& ip) const { return held_.count(ip) > 0; }
  std::size_t size() const { return held_.size(); }

 private:
  std::unordered_set<std::string> held_;
  // Never expires; cancelled on every release to wake the waiters.
  asio::steady_timer released_;
};

}  // namespace relayscope::survey
