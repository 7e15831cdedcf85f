// Limits per user and per client address over a rolling hour (issue 14, 4.):
// messages and recipients, each limit optional (0 = none). The session asks
// before MAIL FROM (one more message?) and before each RCPT TO (one more
// recipient?), and records a message once it is accepted (250 after DATA).
// Over a limit the answer says how long to wait until the oldest counted
// event leaves the hour: the "450 4.7.1 ... try again in N seconds" text.
// Memory is bounded: at most max_keys users and addresses are tracked (the
// oldest-seen are dropped first when full; their limit starts afresh).
// Thread-safe (one mutex): sessions run on several threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/cidr.hpp"

namespace relayscope::server {

struct RateLimits {
  std::uint64_t messages_per_hour_per_user = 0;  // 0: no limit
  std::uint64_t recipients_per_hour_per_user = 0;
  std::uint64_t messages_per_hour_per_client = 0;
  std::uint64_t recipients_per_hour_per_client = 0;
  bool any() const {
    return messages_per_hour_per_user || recipients_per_hour_per_user ||
           messages_per_hour_per_client || recipients_per_hour_per_client;
  }
};

struct RateVerdict {
  bool allowed = true;
  std::chrono::seconds wait{0};  // when refused: at least 1
  std::string what;              // when refused: "messages of user alice", for logs and reply
  // "Too many messages of user alice in the last hour; try again in 42 seconds"
  std::string reply_text() const;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t default_max_keys = 100000;

  explicit RateLimiter(RateLimits limits, std::size_t max_keys = default_max_keys);

  // user: empty for a client that did not log in (only its address counts);
  // client: absent when unknown (only the user counts).
  RateVerdict may_start_message(std::string_view user, const std::optional<IpAddress>& client,
                                Clock::time_point now);
  // recipients_so_far: recipients already accepted in this message.
  RateVerdict may_add_recipient(std::string_view user, const std::optional<IpAddress>& client,
                                std::size_t recipients_so_far, Clock::time_point now);
  void record_message(std::string_view user, const std::optional<IpAddress>& client,
                      std::size_t recipients, Clock::time_point now);

  // SIGHUP: new limits; the counts of the last hour are kept.
  void set_limits(RateLimits limits);

  std::size_t tracked() const;

 private:
  struct Event {
    Clock::time_point when;
    std::uint64_t recipients;
  };
  using History = std::deque<Event>;

  RateVerdict check(const std::string& key, const std::string& label, std::uint64_t max_messages,
                    std::uint64_t max_recipients, std::uint64_t more_messages,
                    std::uint64_t more_recipients, Clock::time_point now);
  History* history(const std::string& key, Clock::time_point now);
  void add(const std::string& key, Event e);

  RateLimits limits_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::map<std::string, History> histories_;
};

}  // namespace relayscope::server
