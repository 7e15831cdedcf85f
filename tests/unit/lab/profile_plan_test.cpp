// Profiles (the shipped files and bad ones), largest-remainder counts, and
// the plan: exact behaviour counts, reproducible with the seed, scaled by
// --domains, the IMC's printed shares.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "lab/plan.hpp"
#include "lab/profile.hpp"
#include "lab/rng.hpp"

namespace relayscope::lab {
namespace {

std::string profiles_dir() {
  return std::string(RELAYSCOPE_SOURCE_DIR) + "/data/profiles";
}

Profile shipped(const std::string& name) {
  auto p = find_profile(name, {profiles_dir()});
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return p ? *p : Profile{};
}

std::string pct(std::int64_t n, std::int64_t of) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", 100.0 * static_cast<double>(n) / static_cast<double>(of));
  return buf;
}

TEST(LargestRemainder, AddsUpExactlyAndIsProportional) {
  auto c = largest_remainder({5.0, 71.0, 0.6, 23.2, 0.2}, 3844);
  std::int64_t sum = 0;
  for (auto v : c) sum += v;
  EXPECT_EQ(sum, 3844);
  EXPECT_EQ(c, (std::vector<std::int64_t>{192, 2729, 23, 892, 8}));
  EXPECT_EQ(largest_remainder({1, 1, 1}, 2), (std::vector<std::int64_t>{1, 1, 0}));
  EXPECT_EQ(largest_remainder({0, 3}, 5), (std::vector<std::int64_t>{0, 5}));
  EXPECT_EQ(largest_remainder({1, 2}, 0), (std::vector<std::int64_t>{0, 0}));
  EXPECT_EQ(largest_remainder({0, 0}, 3), (std::vector<std::int64_t>{0, 0}));
}

TEST(Rng, SameSeedSameStreamSameNumbers) {
  Rng a(7, "x"), b(7, "x"), c(7, "y"), d(8, "x");
  auto va = a.next();
  EXPECT_EQ(va, b.next());
  EXPECT_NE(va, c.next());
  EXPECT_NE(va, d.next());
  for (int i = 0; i < 1000; ++i) EXPECT_LT(a.below(7), 7u);
}

TEST(Profile, EveryShippedProfileLoads) {
  for (const char* name : {"imc-1998-01", "imc-1998-07", "imc-1999-07", "modern", "hostile"}) {
    auto p = shipped(name);
    EXPECT_EQ(p.name, name);
    EXPECT_FALSE(p.groups.empty()) << name;
  }
}

TEST(Profile, BuiltInCopiesMatchTheFiles) {
  for (const char* name : {"imc-1998-01", "modern", "hostile"}) {
    auto from_file = shipped(name);
    auto builtin = find_profile(name, {});  // no directory: the compiled-in copy
    ASSERT_TRUE(builtin) << builtin.error().message;
    EXPECT_EQ(builtin->names, from_file.names);
    EXPECT_EQ(builtin->groups.size(), from_file.groups.size());
  }
}

TEST(Profile, ImcProfilesCarryTheReportsFigures) {
  auto p = shipped("imc-1999-07");
  EXPECT_EQ(p.names, 9238);
  EXPECT_EQ(p.unique_domains, 3896);
  EXPECT_EQ(p.resolved_domains, 3844);
  std::map<std::string, double> share;
  for (const auto& g : p.groups) share[g.outcome] = g.share;
  EXPECT_DOUBLE_EQ(share["CONNECT"], 5.0);
  EXPECT_DOUBLE_EQ(share["TO"], 71.0);
  EXPECT_DOUBLE_EQ(share["DATA"], 0.6);
  EXPECT_DOUBLE_EQ(share["OK"], 23.2);
}

TEST(Profile, UnknownNameListsTheKnownOnes) {
  auto p = find_profile("no-such-profile", {profiles_dir()});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("unknown profile 'no-such-profile'"), std::string::npos);
  EXPECT_NE(p.error().message.find("imc-1999-07"), std::string::npos);
  EXPECT_NE(p.error().message.find("modern"), std::string::npos);
}

constexpr const char* minimal = R"(
name = "t"
[funnel]
names = 10
unique_domains = 5
resolved_domains = 4
[unresolved]
nxdomain = 1
[outcomes.TO]
share = 100
relay_denied = 1
)";

TEST(Profile, MinimalProfileParses) {
  auto p = parse_profile(minimal, "t.toml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->resolution.size(), 1u);  // mx by default
}

TEST(Profile, BadFilesGiveClearErrors) {
  struct Case {
    std::string text;
    std::string says;
  };
  std::string base = minimal;
  std::vector<Case> cases{
      {"name = ", "t.toml:"},
      {base + "[outcomes.OK]\nshare = 5\nrelay = 1\n", "add up to 105"},
      {base + "[outcomes.DATA]\nshare = 0\nrelay = 1\n", "behaviour relay gives outcome OK"},
      {base + "[outcomes.OK]\nshare = 0\nflying = 1\n", "unknown behaviour outcomes.OK.flying"},
      {base + "[outcomes.WHATEVER]\nshare = 0\n", "unknown outcome"},
      {base + "[delays]\nreply_ms = -1\n", "delays.reply_ms"},
      {base + "[delays]\nnap_ms = 1\n", "unknown key delays.nap_ms"},
      {"colour = 1\n" + base, "unknown key colour"},
      // A float too large for an integer is read as a float, not cast (the
      // fuzzer found toml++'s value<int64_t>() doing that cast).
      {base + "[outcomes.OK]\nshare = 1e300\nrelay = 1\n", "add up to"},
      {std::string("name = \"t\"\n[funnel]\nnames = 1\nunique_domains = 5\nresolved_domains = 4\n"
                   "[outcomes.TO]\nshare = 100\nrelay_denied = 1\n"),
       "unique_domains exceeds names"},
      {std::string("name = \"t\"\n[funnel]\nnames = 10\nunique_domains = 5\nresolved_domains = 4\n"
                   "[outcomes.TO]\nshare = 100\nrelay_denied = 1\n"),
       "[unresolved] needs a positive weight"},
  };
  for (const auto& c : cases) {
    auto p = parse_profile(c.text, "t.toml");
    ASSERT_FALSE(p) << c.text;
    EXPECT_NE(p.error().message.find(c.says), std::string::npos)
        << "wanted '" << c.says << "' in: " << p.error().message;
  }
}

TEST(Plan, Imc1999HasThePrintedSharesExactly) {
  auto plan = make_plan(shipped("imc-1999-07"), {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->hosts.size(), 3844u);
  EXPECT_EQ(plan->domains.size(), 3896u);
  auto o = plan->outcome_counts();
  EXPECT_EQ(pct(o["CONNECT"], 3844), "5.0");
  EXPECT_EQ(pct(o["TO"], 3844), "71.0");
  EXPECT_EQ(pct(o["DATA"], 3844), "0.6");
  EXPECT_EQ(pct(o["OK"], 3844), "23.2");
  std::int64_t total = 0;
  for (const auto& [k, v] : o) total += v;
  EXPECT_EQ(total, 3844);
  // OK hosts split as the IMC counted delivered (88) and bounced (19) of 116.
  auto b = plan->behaviour_counts();
  EXPECT_EQ(b["relay"] + b["bounce"] + b["accept_drop"], o["OK"]);
  EXPECT_NEAR(static_cast<double>(b["relay"]) / o["OK"], 88.0 / 116, 0.002);
  EXPECT_NEAR(static_cast<double>(b["bounce"]) / o["OK"], 19.0 / 116, 0.002);
}

TEST(Plan, EveryImcProfileMeetsItsShares) {
  struct Run {
    const char* name;
    std::int64_t resolved;
    const char* connect;
    const char* to;
    const char* data;
    const char* ok;
  };
  for (const auto& r : {Run{"imc-1998-01", 2813, "5.6", "36.4", "0.4", "57.6"},
                        Run{"imc-1998-07", 3433, "6.4", "52.0", "0.8", "40.6"}}) {
    auto plan = make_plan(shipped(r.name), {});
    ASSERT_TRUE(plan);
    auto o = plan->outcome_counts();
    EXPECT_EQ(static_cast<std::int64_t>(plan->hosts.size()), r.resolved);
    EXPECT_EQ(pct(o["CONNECT"], r.resolved), r.connect) << r.name;
    EXPECT_EQ(pct(o["TO"], r.resolved), r.to) << r.name;
    EXPECT_EQ(pct(o["DATA"], r.resolved), r.data) << r.name;
    EXPECT_EQ(pct(o["OK"], r.resolved), r.ok) << r.name;
  }
}

TEST(Plan, SameSeedSamePlanOtherSeedOtherOrder) {
  auto p = shipped("modern");
  PlanOptions a;
  a.seed = 42;
  a.domains = 500;
  auto x = make_plan(p, a), y = make_plan(p, a);
  a.seed = 43;
  auto z = make_plan(p, a);
  ASSERT_TRUE(x && y && z);
  int same = 0, differ = 0;
  for (std::size_t i = 0; i < x->hosts.size(); ++i) {
    EXPECT_EQ(x->hosts[i].behaviour, y->hosts[i].behaviour);
    EXPECT_EQ(x->hosts[i].ip, y->hosts[i].ip);
    (x->hosts[i].behaviour == z->hosts[i].behaviour ? same : differ)++;
  }
  EXPECT_GT(differ, 50);
  // The counts do not depend on the seed, only the order does.
  EXPECT_EQ(x->behaviour_counts(), z->behaviour_counts());
}

TEST(Plan, DomainsScalesTheFunnelAndKeepsShares) {
  PlanOptions o;
  o.domains = 200;
  auto plan = make_plan(shipped("imc-1999-07"), o);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->funnel.resolved_domains, 200);
  EXPECT_EQ(plan->funnel.unique_domains, std::llround(3896.0 * 200 / 3844));
  EXPECT_EQ(plan->funnel.names, std::llround(9238.0 * 200 / 3844));
  EXPECT_GE(plan->funnel.junk_lines, 1);
  auto c = plan->outcome_counts();
  EXPECT_EQ(c["CONNECT"], 10);
  EXPECT_EQ(c["TO"], 142);
  EXPECT_EQ(c["CONNECT"] + c["TO"] + c["DATA"] + c["OK"] + c["QUIT"], 200);
}

TEST(Plan, AddressesAreDistinctLoopbackAndSkipZeroAndBroadcast) {
  PlanOptions o;
  o.domains = 1000;
  o.first_address = (127u << 24) | (9u << 16) | 250u;  // crosses a .255/.0 boundary at once
  auto plan = make_plan(shipped("modern"), o);
  ASSERT_TRUE(plan);
  std::set<std::uint32_t> seen;
  for (const auto& h : plan->hosts) {
    EXPECT_EQ(h.ip >> 24, 127u);
    EXPECT_NE(h.ip & 255, 0u);
    EXPECT_NE(h.ip & 255, 255u);
    EXPECT_TRUE(seen.insert(h.ip).second);
    if (h.backup_ip) {
      EXPECT_TRUE(seen.insert(h.backup_ip).second);
    }
  }
  o.first_address = (127u << 24) | (255u << 16) | (250u << 8);
  o.domains = 100000;
  EXPECT_FALSE(make_plan(shipped("modern"), o));  // would leave 127/8
}

TEST(Plan, NamesAreHeavyTailedAndAddUp) {
  auto plan = make_plan(shipped("imc-1999-07"), {});
  ASSERT_TRUE(plan);
  std::int64_t total = 0;
  std::uint32_t most = 0;
  for (const auto& d : plan->domains) {
    EXPECT_GE(d.names, 1u);
    total += d.names;
    most = std::max(most, d.names);
  }
  EXPECT_EQ(total, 9238);
  EXPECT_GT(most, 100u);  // a big mailing list's domain
}

TEST(Plan, UnresolvedDomainsFailAsWeighted) {
  auto plan = make_plan(shipped("modern"), {});
  ASSERT_TRUE(plan);
  auto u = plan->unresolved_counts();
  std::int64_t n = 0;
  for (const auto& [k, v] : u) n += v;
  EXPECT_EQ(n, 200);
  EXPECT_EQ(u["nxdomain"], 80);
  EXPECT_EQ(u["null_mx"], 50);
}

}  // namespace
}  // namespace relayscope::lab
