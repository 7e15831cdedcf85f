// See rate_limiter.hpp. Each key ("user:NAME", "client:ADDR") keeps the
// accepted messages of its last hour, oldest first, so the wait is read off
// the event that has to leave the window.
#include "server/rate_limiter.hpp"

#include <algorithm>

namespace relayscope::server {

namespace {

constexpr auto hour = std::chrono::hours(1);

std::chrono::seconds seconds_until(RateLimiter::Clock::time_point t,
                                   RateLimiter::Clock::time_point now) {
  auto left = std::chrono::ceil<std::chrono::seconds>(t - now);
  return std::max(left, std::chrono::seconds(1));
}

}  // namespace

std::string RateVerdict::reply_text() const {
  return "Too many " + what + " in the last hour; try again in " + std::to_string(wait.count()) +
         " seconds";
}

RateLimiter::RateLimiter(RateLimits limits, std::size_t max_keys)
    : limits_(limits), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

RateLimiter::History* RateLimiter::history(const std::string& key, Clock::time_point now) {
  auto it = histories_.find(key);
  if (it == histories_.end()) return nullptr;
  auto& h = it->second;
  while (!h.empty() && h.front().when + hour <= now) h.pop_front();
  if (h.empty()) {
    histories_.erase(it);
    return nullptr;
  }
  return &h;
}

RateVerdict RateLimiter::check(const std::string& key, const std::string& label,
                               std::uint64_t max_messages, std::uint64_t max_recipients,
                               std::uint64_t more_messages, std::uint64_t more_recipients,
                               Clock::time_point now) {
  RateVerdict v;
  if (!max_messages && !max_recipients) return v;
  const History* h = history(key, now);
  static const History none;
  if (!h) h = &none;
  if (max_messages && more_messages) {
    std::uint64_t count = h->size();
    if (count + more_messages > max_messages) {
      auto drop = count + more_messages - max_messages;  // events that must leave the hour
      v.allowed = false;
      v.what = "messages of " + label;
      v.wait = drop > count ? std::chrono::duration_cast<std::chrono::seconds>(hour)
                            : seconds_until((*h)[drop - 1].when + hour, now);
    }
  }
  if (max_recipients && more_recipients) {
    std::uint64_t sum = 0;
    for (const auto& e : *h) sum += e.recipients;
    if (sum + more_recipients > max_recipients) {
      std::chrono::seconds wait = std::chrono::duration_cast<std::chrono::seconds>(hour);
      if (more_recipients <= max_recipients) {
        for (const auto& e : *h) {  // oldest first, until the rest fits
          sum -= e.recipients;
          if (sum + more_recipients <= max_recipients) {
            wait = seconds_until(e.when + hour, now);
            break;
          }
        }
      }
      if (v.allowed || wait > v.wait) {
        v.what = "recipients of " + label;
        v.wait = wait;
      }
      v.allowed = false;
    }
  }
  return v;
}

RateVerdict RateLimiter::may_start_message(std::string_view user,
                                           const std::optional<IpAddress>& client,
                                           Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (!user.empty()) {
    auto v = check("user:" + std::string(user), "user " + std::string(user),
                   limits_.messages_per_hour_per_user, 0, 1, 0, now);
    if (!v.allowed) return v;
  }
  if (!client) return {};
  auto addr = client->to_string();
  return check("client:" + addr, "client " + addr, limits_.messages_per_hour_per_client, 0, 1, 0,
               now);
}

RateVerdict RateLimiter::may_add_recipient(std::string_view user,
                                           const std::optional<IpAddress>& client,
                                           std::size_t recipients_so_far, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  std::uint64_t more = recipients_so_far + 1;
  if (!user.empty()) {
    auto v = check("user:" + std::string(user), "user " + std::string(user), 0,
                   limits_.recipients_per_hour_per_user, 0, more, now);
    if (!v.allowed) return v;
  }
  if (!client) return {};
  auto addr = client->to_string();
  return check("client:" + addr, "client " + addr, 0, limits_.recipients_per_hour_per_client, 0,
               more, now);
}

void RateLimiter::add(const std::string& key, Event e) {
  auto it = histories_.find(key);
  if (it == histories_.end() && histories_.size() >= max_keys_) {
    // Full: forget whoever was active least recently.
    auto oldest = std::min_element(histories_.begin(), histories_.end(), [](auto& a, auto& b) {
      return a.second.back().when < b.second.back().when;
    });
    histories_.erase(oldest);
  }
  histories_[key].push_back(e);
}

void RateLimiter::record_message(std::string_view user, const std::optional<IpAddress>& client,
                                 std::size_t recipients, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (!limits_.any()) return;
  Event e{now, recipients};
  if (!user.empty() &&
      (limits_.messages_per_hour_per_user || limits_.recipients_per_hour_per_user)) {
    history("user:" + std::string(user), now);  // prunes
    add("user:" + std::string(user), e);
  }
  if (client && (limits_.messages_per_hour_per_client || limits_.recipients_per_hour_per_client)) {
    auto key = "client:" + client->to_string();
    history(key, now);
    add(key, e);
  }
}

void RateLimiter::set_limits(RateLimits limits) {
  std::lock_guard lock(mutex_);
  limits_ = limits;
}

std::size_t RateLimiter::tracked() const {
  std::lock_guard lock(mutex_);
  return histories_.size();
}

}  // namespace relayscope::server
