#include "survey/variants.hpp"

#include <gtest/gtest.h>

#include <set>

namespace relayscope::survey {
namespace {

VariantContext context() {
  VariantContext v;
  v.user = "relay-test+tok";
  v.domain = "collector.test";
  v.sender_user = "probe+tok";
  v.sender_domain = "collector.test";
  v.server_name = "mx.target.test";
  v.ip_literal = "[127.0.0.9]";
  v.host_domain = "target.test";
  return v;
}

const Transaction& find(const std::vector<Transaction>& all, const std::string& name) {
  for (const auto& t : all) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no variant " + name);
}

TEST(Variants, EachHasAUniqueName) {
  auto all = trick_transactions(context(), "tok");
  std::set<std::string> names;
  for (const auto& t : all) EXPECT_TRUE(names.insert(t.name).second) << t.name;
  EXPECT_FALSE(names.count("imc"));
}

TEST(Variants, CoverNmapsSixteenSpellings) {
  auto all = trick_transactions(context(), "tok");
  const std::string T = "relay-test+tok", D = "collector.test", S = "mx.target.test",
                    IP = "[127.0.0.9]";
  std::set<std::string> rcpts, froms;
  for (const auto& t : all) {
    rcpts.insert(t.rcpt_to);
    froms.insert(t.mail_from);
  }
  for (const std::string& r : std::vector<std::string>{
           T + "%" + D + "@" + IP, T + "%" + D + "@" + S, "\"" + T + "@" + D + "\"",
           "\"" + T + "%" + D + "\"", T + "@" + D + "@" + IP, "\"" + T + "@" + D + "\"@" + IP,
           T + "@" + D + "@" + S, "@" + IP + ":" + T + "@" + D, "@" + S + ":" + T + "@" + D,
           D + "!" + T, D + "!" + T + "@" + IP, D + "!" + T + "@" + S}) {
    EXPECT_TRUE(rcpts.count("<" + r + ">")) << r;
  }
  for (const std::string& f : std::vector<std::string>{
           "<>", "<probe+tok@target.test>", "<probe+tok@" + S + ">", "<probe+tok@" + IP + ">"}) {
    EXPECT_TRUE(froms.count(f)) << f;
  }
}

TEST(Variants, Ipv6LiteralsCarryTheirTag) {
  auto v = context();
  v.ip_literal = "[IPv6:::1]";
  auto all = trick_transactions(v, "tok");
  EXPECT_EQ(find(all, "percent-hack-literal").rcpt_to,
            "<relay-test+tok%collector.test@[IPv6:::1]>");
}

TEST(Variants, SenderTricksKeepThePlainRecipient) {
  auto all = trick_transactions(context(), "tok");
  EXPECT_EQ(find(all, "null-sender").mail_from, "<>");
  EXPECT_EQ(find(all, "null-sender").rcpt_to, "<relay-test+tok@collector.test>");
  EXPECT_EQ(find(all, "unqualified-sender").mail_from, "<probe+tok>");
  EXPECT_EQ(find(all, "sender-localhost").mail_from, "<probe+tok@localhost>");
  EXPECT_EQ(find(all, "trailing-dot-domain").rcpt_to, "<relay-test+tok@collector.test.>");
  EXPECT_EQ(find(all, "upper-case-domain").rcpt_to, "<relay-test+tok@COLLECTOR.TEST>");
  EXPECT_TRUE(find(all, "after-failed-auth").fail_auth_first);
}

TEST(Variants, ImcTransactionTagsBothAddressesWithTheToken) {
  ProbeOptions o;
  o.mail_from = "probe@collector.test";
  o.rcpt_to = "relay-test@collector.test";
  auto t = imc_transaction(o, {}, "abc");
  EXPECT_EQ(t.mail_from, "<probe+abc@collector.test>");
  EXPECT_EQ(t.rcpt_to, "<relay-test+abc@collector.test>");
}

}  // namespace
}  // namespace relayscope::survey
