// The rolling-hour limiter: per user and per client, messages and
// recipients, the wait read off the oldest event, and bounded memory.
#include "server/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace relayscope::server {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

TEST(RateLimiter, NoLimitsAllowEverything) {
  RateLimiter r({});
  auto t = Clock::time_point{} + 10h;
  for (int i = 0; i < 1000; ++i) r.record_message("alice", ip("127.0.0.3"), 50, t);
  EXPECT_TRUE(r.may_start_message("alice", ip("127.0.0.3"), t).allowed);
  EXPECT_TRUE(r.may_add_recipient("alice", ip("127.0.0.3"), 5000, t).allowed);
  EXPECT_EQ(r.tracked(), 0u);
}

TEST(RateLimiter, MessagesPerUserRollOverTheHour) {
  RateLimits l;
  l.messages_per_hour_per_user = 3;
  RateLimiter r(l);
  auto t0 = Clock::time_point{} + 10h;
  auto a = ip("127.0.0.3");
  for (int i = 0; i < 3; ++i) {
    auto now = t0 + std::chrono::minutes(10 * i);
    ASSERT_TRUE(r.may_start_message("alice", a, now).allowed) << i;
    r.record_message("alice", a, 1, now);
  }
  auto now = t0 + 30min;
  auto v = r.may_start_message("alice", a, now);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.wait, 30min) << "the first message leaves the hour at t0 + 60 min";
  EXPECT_EQ(v.reply_text(),
            "Too many messages of user alice in the last hour; try again in 1800 seconds");
  EXPECT_TRUE(r.may_start_message("bob", a, now).allowed) << "another user";
  EXPECT_TRUE(r.may_start_message("", a, now).allowed) << "no client limit set";
  EXPECT_FALSE(r.may_start_message("alice", a, t0 + 60min - 1s).allowed);
  EXPECT_TRUE(r.may_start_message("alice", a, t0 + 60min).allowed);
}

TEST(RateLimiter, RecipientsPerUser) {
  RateLimits l;
  l.recipients_per_hour_per_user = 10;
  RateLimiter r(l);
  auto t0 = Clock::time_point{} + 10h;
  auto a = ip("127.0.0.3");
  r.record_message("alice", a, 4, t0);
  r.record_message("alice", a, 4, t0 + 20min);
  // 8 used: the 3rd recipient of a new message would make 11.
  EXPECT_TRUE(r.may_add_recipient("alice", a, 0, t0 + 30min).allowed);
  EXPECT_TRUE(r.may_add_recipient("alice", a, 1, t0 + 30min).allowed);
  auto v = r.may_add_recipient("alice", a, 2, t0 + 30min);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.wait, 30min);
  EXPECT_EQ(v.what, "recipients of user alice");
  // More than the whole limit in one message can never fit: an hour.
  EXPECT_EQ(r.may_add_recipient("alice", a, 10, t0 + 30min).wait, 1h);
}

TEST(RateLimiter, PerClientCountsEveryoneFromTheAddress) {
  RateLimits l;
  l.messages_per_hour_per_client = 2;
  l.recipients_per_hour_per_client = 100;
  RateLimiter r(l);
  auto t = Clock::time_point{} + 10h;
  auto a = ip("127.0.0.3");
  r.record_message("", a, 1, t);
  r.record_message("alice", a, 1, t + 1s);
  auto v = r.may_start_message("bob", a, t + 2s);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.what, "messages of client 127.0.0.3");
  EXPECT_EQ(v.wait, 3600s - 2s);
  EXPECT_TRUE(r.may_start_message("bob", ip("127.0.0.4"), t + 2s).allowed);
}

TEST(RateLimiter, WaitIsAtLeastOneSecond) {
  RateLimits l;
  l.messages_per_hour_per_user = 1;
  RateLimiter r(l);
  auto t = Clock::time_point{} + 10h;
  r.record_message("alice", ip("::1"), 1, t);
  EXPECT_EQ(r.may_start_message("alice", ip("::1"), t + 1h - 1ms).wait, 1s);
}

TEST(RateLimiter, MemoryIsBounded) {
  RateLimits l;
  l.messages_per_hour_per_client = 1;
  RateLimiter r(l, 100);
  auto t = Clock::time_point{} + 10h;
  for (int i = 0; i < 1000; ++i) {
    IpAddress a;
    a.bytes[14] = static_cast<std::uint8_t>(i >> 8);
    a.bytes[15] = static_cast<std::uint8_t>(i);
    r.record_message("", a, 1, t + std::chrono::milliseconds(i));
  }
  EXPECT_LE(r.tracked(), 100u);
}

}  // namespace
}  // namespace relayscope::server
