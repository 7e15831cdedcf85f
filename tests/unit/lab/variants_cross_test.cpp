// The lab's table of which survey variants each trick host relays for
// (behaviour.cpp trick_variants) checked against the survey's own spellings
// (survey/variants.cpp) run through the trick hosts' rule: if either side
// changes, this test says which variant no longer matches.
#include <gtest/gtest.h>

#include <algorithm>

#include "lab/behaviour.hpp"
#include "lab/tricks.hpp"
#include "survey/variants.hpp"

namespace relayscope::lab {
namespace {

TEST(VariantsCross, TrickHostsRelayForExactlyTheirListedVariants) {
  HostIdentity self{"d00042.test", "mx.d00042.test", "[127.1.0.42]"};
  survey::VariantContext v;
  v.user = "relay-test+tok";
  v.domain = "collector.test";
  v.sender_user = "probe+tok";
  v.sender_domain = "collector.test";
  v.server_name = self.name;
  v.ip_literal = self.ip_literal;
  v.host_domain = self.domain;
  auto txs = survey::trick_transactions(v, "tok");
  ASSERT_FALSE(txs.empty());
  for (const auto& bi : all_behaviours()) {
    if (!is_trick(bi.behaviour)) continue;
    std::vector<std::string> relayed;
    for (const auto& tx : txs) {
      auto from = decode_path(tx.mail_from, self);
      auto to = decode_path(tx.rcpt_to, self);
      ASSERT_TRUE(from && to) << tx.name;
      if (trick_relays(bi.behaviour, {*from, *to, tx.fail_auth_first}, self)) {
        relayed.push_back(tx.name);
        EXPECT_EQ(to->mailbox(), v.user + "@" + v.domain) << tx.name << " decodes elsewhere";
      }
    }
    auto listed = trick_variants(bi.behaviour);
    std::sort(relayed.begin(), relayed.end());
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ(relayed, listed) << bi.name;
  }
}

}  // namespace
}  // namespace relayscope::lab
