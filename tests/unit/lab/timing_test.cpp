// The internet profile's per-host timing, pure: the built-in profile parses,
// its draws follow the distributions it states (median round trip near
// 100 ms, none past 1 s, about 5% slow greetings of 5-30 s), the same seed
// gives the same draws, greylisting falls only on hosts whose plain test
// reaches RCPT TO (they are expected as TO), and bad [timing] values are
// errors naming the key.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "lab/plan.hpp"
#include "lab/profile.hpp"

namespace relayscope::lab {
namespace {

LabPlan internet_plan(std::int64_t hosts, std::uint64_t seed) {
  auto p = find_profile("internet", {});
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  PlanOptions o;
  o.domains = hosts;
  o.seed = seed;
  auto plan = make_plan(*p, o);
  EXPECT_TRUE(plan) << (plan ? "" : plan.error().message);
  return *plan;
}

TEST(InternetTiming, DrawsFollowTheStatedDistributions) {
  auto plan = internet_plan(20000, 3);
  ASSERT_TRUE(plan.timing.enabled);
  std::vector<int> rtt;
  std::size_t slow = 0, fast_over_1s = 0, closing = 0, greylisted = 0, greylistable_hosts = 0;
  for (const auto& h : plan.hosts) {
    rtt.push_back(h.timing.rtt_ms);
    if (h.timing.greeting_ms >= 5000) {
      ++slow;
      EXPECT_LE(h.timing.greeting_ms, 30000);
    } else if (h.timing.greeting_ms > 1000) {
      ++fast_over_1s;
    }
    if (h.timing.close_after_errors > 0) {
      ++closing;
      EXPECT_EQ(h.timing.close_after_errors, 3);
    }
    if (greylistable(h.behaviour)) ++greylistable_hosts;
    if (h.timing.greylist) {
      ++greylisted;
      EXPECT_TRUE(greylistable(h.behaviour)) << info(h.behaviour).name;
      EXPECT_STREQ(expected_outcome(h), "TO");
    } else {
      EXPECT_STREQ(expected_outcome(h), info(h.behaviour).outcome);
    }
  }
  std::sort(rtt.begin(), rtt.end());
  const double n = static_cast<double>(plan.hosts.size());
  EXPECT_GE(rtt[rtt.size() / 2], 90);
  EXPECT_LE(rtt[rtt.size() / 2], 110);
  EXPECT_LE(rtt.back(), 1000);
  EXPECT_GT(rtt[rtt.size() * 99 / 100], 300);  // a heavy tail, not a constant
  EXPECT_EQ(fast_over_1s, 0u);
  EXPECT_NEAR(static_cast<double>(slow) / n, 0.05, 0.01);
  EXPECT_NEAR(static_cast<double>(closing) / n, 0.20, 0.02);
  EXPECT_NEAR(static_cast<double>(greylisted) / static_cast<double>(greylistable_hosts), 0.10,
              0.02);
  // The tarpits and the silent hosts are there.
  auto counts = plan.behaviour_counts();
  EXPECT_GT(counts["tarpit"], 0);
  EXPECT_GT(counts["no_greeting"], 0);
}

TEST(InternetTiming, SameSeedSameDrawsOtherSeedOthers) {
  auto a = internet_plan(2000, 5), b = internet_plan(2000, 5), c = internet_plan(2000, 6);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < a.hosts.size(); ++i) {
    EXPECT_EQ(a.hosts[i].timing.rtt_ms, b.hosts[i].timing.rtt_ms);
    EXPECT_EQ(a.hosts[i].timing.greeting_ms, b.hosts[i].timing.greeting_ms);
    EXPECT_EQ(a.hosts[i].timing.greylist, b.hosts[i].timing.greylist);
    if (a.hosts[i].timing.rtt_ms != c.hosts[i].timing.rtt_ms) ++differ;
  }
  EXPECT_GT(differ, a.hosts.size() / 2);
}

TEST(InternetTiming, ProfilesWithoutTimingDrawNothing) {
  auto p = find_profile("modern", {});
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->timing.enabled);
  PlanOptions o;
  o.domains = 500;
  auto plan = make_plan(*p, o);
  ASSERT_TRUE(plan);
  for (const auto& h : plan->hosts) {
    EXPECT_EQ(h.timing.rtt_ms, 0);
    EXPECT_EQ(h.timing.greeting_ms, 0);
    EXPECT_FALSE(h.timing.greylist);
  }
}

TEST(InternetTiming, ErrorLimitCountsEveryErrorOrOnlySyntaxErrors) {
  using K = TimingProfile::ErrorKind;
  for (int code : {421, 450, 550, 554, 500, 501, 503}) {
    EXPECT_TRUE(counts_towards_error_limit(K::any, code)) << code;
  }
  for (int code : {220, 250, 354}) EXPECT_FALSE(counts_towards_error_limit(K::any, code)) << code;
  for (int code : {500, 501, 502, 503, 504}) {
    EXPECT_TRUE(counts_towards_error_limit(K::syntax, code)) << code;
  }
  for (int code : {250, 421, 450, 451, 550, 553, 554}) {
    EXPECT_FALSE(counts_towards_error_limit(K::syntax, code)) << code;
  }
  // The internet profile models Exim's count.
  auto p = find_profile("internet", {});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->timing.close_after_errors_kind, K::syntax);
}

TEST(InternetTiming, BadTimingValuesNameTheKey) {
  const std::string head = R"(
name = "t"
[funnel]
names = 10
unique_domains = 10
resolved_domains = 10
[outcomes.TO]
share = 100
relay_denied = 1
[timing]
)";
  for (auto [body, key] :
       {std::pair{"greylist_share = 120", "timing.greylist_share"},
        {"rtt_sigma = -1", "timing.rtt_sigma"},
        {"slow_greeting_min_ms = 9000\nslow_greeting_max_ms = 5000", "timing.slow_greeting_min_ms"},
        {"close_after_errors_share = 10", "timing.close_after_errors"},
        {"rtt_median = 100", "timing.rtt_median"},
        {"error_sleep_ms = \"1s\"", "timing.error_sleep_ms"},
        {"close_after_errors_kind = \"policy\"", "timing.close_after_errors_kind"}}) {
    auto p = parse_profile(head + body + "\n", "t.toml");
    ASSERT_FALSE(p) << body;
    EXPECT_NE(p.error().message.find(key), std::string::npos) << p.error().message;
  }
}

}  // namespace
}  // namespace relayscope::lab
