// MX ordering, null MX, seeded tie-break and address choice (mx_select.hpp).
#include "dns/mx_select.hpp"

#include <gtest/gtest.h>

#include <set>

namespace relayscope::dns {
namespace {

std::vector<std::string> hosts(const std::vector<MxRecord>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.host);
  return out;
}

TEST(OrderMx, LowestPreferenceFirstWhateverTheAnswerOrder) {
  std::vector<MxRecord> rs{{30, "c.example."}, {10, "A.Example."}, {20, "b.example"}};
  auto o = order_mx(rs, "example", 1);
  EXPECT_EQ(hosts(o), (std::vector<std::string>{"a.example", "b.example", "c.example"}));
  EXPECT_EQ(o[0].preference, 10);
  std::reverse(rs.begin(), rs.end());
  EXPECT_EQ(hosts(order_mx(rs, "example", 1)), hosts(o));
}

TEST(OrderMx, TieBreakIsReproducibleForSeedAndDomain) {
  std::vector<MxRecord> rs{{10, "a.t"}, {10, "b.t"}, {10, "c.t"}, {10, "d.t"}, {20, "z.t"}};
  auto first = order_mx(rs, "dom.test", 42);
  for (int i = 0; i < 5; ++i) {
    std::reverse(rs.begin(), rs.end());  // answer order must not matter
    EXPECT_EQ(hosts(order_mx(rs, "dom.test", 42)), hosts(first));
  }
  EXPECT_EQ(first.back().host, "z.t");  // the tie is only among preference 10
}

TEST(OrderMx, DifferentSeedsPickDifferentHostsAtATie) {
  std::vector<MxRecord> rs{{10, "a.t"}, {10, "b.t"}, {10, "c.t"}};
  std::set<std::string> firsts;
  for (std::uint64_t seed = 0; seed < 64; ++seed)
    firsts.insert(order_mx(rs, "d.test", seed)[0].host);
  EXPECT_EQ(firsts.size(), 3u);  // every tied host gets chosen by some seed
}

TEST(OrderMx, TieBreakIsRoughlyUniform) {
  std::vector<MxRecord> rs{{5, "a.t"}, {5, "b.t"}};
  int a = 0;
  const int n = 2000;
  for (int seed = 0; seed < n; ++seed) a += order_mx(rs, "d.test", seed)[0].host == "a.t";
  EXPECT_GT(a, n * 40 / 100);
  EXPECT_LT(a, n * 60 / 100);
}

TEST(OrderMx, DropsRootTargetsAndDuplicates) {
  std::vector<MxRecord> rs{{0, ""}, {10, "mx.t."}, {20, "MX.t"}, {30, "."}};
  auto o = order_mx(rs, "d.test", 7);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0], (MxRecord{10, "mx.t"}));
}

TEST(NullMx, SingleRootTargetIsNullMx) {
  EXPECT_TRUE(is_null_mx({{0, ""}}));
  EXPECT_TRUE(is_null_mx({{0, "."}}));
  EXPECT_FALSE(is_null_mx({}));
  EXPECT_FALSE(is_null_mx({{0, ""}, {10, "mx.t"}}));  // mixed: use the real one
  EXPECT_FALSE(is_null_mx({{0, "mx.t"}}));
}

TEST(IpLiteralTarget, RecognisesAddressesNotNames) {
  EXPECT_TRUE(is_ip_literal_target("192.0.2.1"));
  EXPECT_TRUE(is_ip_literal_target("192.0.2.1."));
  EXPECT_TRUE(is_ip_literal_target("[192.0.2.1]"));
  EXPECT_TRUE(is_ip_literal_target("::1"));
  EXPECT_FALSE(is_ip_literal_target("mx1.example"));
  EXPECT_FALSE(is_ip_literal_target("1.2.3.4.example"));
}

TEST(ChooseAddress, ReproducibleAndIndependentOfOrder) {
  std::vector<std::string> as{"127.0.0.3", "127.0.0.1", "127.0.0.2"};
  auto c = choose_address(as, "mx.t", 9);
  std::reverse(as.begin(), as.end());
  EXPECT_EQ(choose_address(as, "mx.t", 9), c);
  EXPECT_EQ(choose_address({"127.0.0.5"}, "mx.t", 1), "127.0.0.5");
  EXPECT_EQ(choose_address({}, "mx.t", 1), "");
  std::set<std::string> seen;
  for (std::uint64_t s = 0; s < 64; ++s) seen.insert(choose_address(as, "mx.t", s));
  EXPECT_EQ(seen.size(), 3u);
}

TEST(NormalizeName, LowerCaseWithoutTrailingDot) {
  EXPECT_EQ(normalize_name("MX1.Example.COM."), "mx1.example.com");
  EXPECT_EQ(normalize_name("."), "");
  EXPECT_EQ(normalize_name(""), "");
}

}  // namespace
}  // namespace relayscope::dns
