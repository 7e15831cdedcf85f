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

// Servers that hang up after a few syntax errors (Exim: 3) must have
// answered the meaningful variants first: every address-literal sender and
// every malformed path comes after every well-formed variant, and the relay
// after a failed AUTH is among the first.
TEST(Variants, ThoseLikelyRefusedAsSyntaxComeLast) {
  auto all = trick_transactions(context(), "tok");
  auto position = [&all](const std::string& name) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].name == name) return i;
    }
    throw std::runtime_error("no variant " + name);
  };
  const std::string literal = "@[127.0.0.9]>";
  auto literal_sender = [&literal](const Transaction& t) {
    return t.mail_from.size() >= literal.size() &&
           t.mail_from.compare(t.mail_from.size() - literal.size(), literal.size(), literal) == 0;
  };
  std::size_t first_literal = all.size();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (literal_sender(all[i])) {
      first_literal = std::min(first_literal, i);
    } else {
      EXPECT_LT(i, first_literal) << all[i].name << " comes after an address-literal sender";
    }
  }
  ASSERT_LT(first_literal, all.size());
  EXPECT_GE(all.size() - first_literal, 13U);  // nmap's spellings, all at the end
  for (const char* malformed : {"unqualified-sender", "trailing-dot-domain", "trailing-at"}) {
    for (const char* good : {"null-sender", "sender-at-target-domain", "sender-equals-recipient",
                             "upper-case-domain", "after-failed-auth", "percent-hack-domain",
                             "bang-path-domain", "quoted-at-domain", "source-route-domain"}) {
      EXPECT_LT(position(good), position(malformed)) << good << " before " << malformed;
    }
    EXPECT_LT(position(malformed), first_literal) << malformed;
  }
  EXPECT_LT(position("after-failed-auth"), 8U);
}

// A probe builds each variant when it sends it: the one built alone is the
// one of the whole list, name for name and byte for byte.
TEST(Variants, EachBuiltAloneIsTheOneOfTheList) {
  auto all = trick_transactions(context(), "tok");
  ASSERT_EQ(all.size(), trick_count());
  for (std::size_t i = 0; i < trick_count(); ++i) {
    auto one = trick_transaction(context(), i, "tok");
    EXPECT_EQ(one.name, all[i].name);
    EXPECT_EQ(one.name, trick_name(i));
    EXPECT_EQ(one.mail_from, all[i].mail_from);
    EXPECT_EQ(one.rcpt_to, all[i].rcpt_to);
    EXPECT_EQ(one.envelope_from_address, "probe+tok@collector.test");
    EXPECT_EQ(one.envelope_to_address, "relay-test+tok@collector.test");
    EXPECT_EQ(one.fail_auth_first, one.name == "after-failed-auth");
  }
}

// Spellings of the recipes, spelled out (a recipe's letters are the
// context's parts).
TEST(Variants, RecipesSpellTheContextsParts) {
  auto all = trick_transactions(context(), "tok");
  EXPECT_EQ(find(all, "null-sender").mail_from, "<>");
  EXPECT_EQ(find(all, "sender-at-server-name").mail_from, "<probe+tok@mx.target.test>");
  EXPECT_EQ(find(all, "quoted-at-domain").rcpt_to,
            "<\"relay-test+tok@collector.test\"@target.test>");
  EXPECT_EQ(find(all, "source-route-literal").rcpt_to,
            "<@[127.0.0.9]:relay-test+tok@collector.test>");
  EXPECT_EQ(find(all, "bang-path-server").rcpt_to,
            "<collector.test!relay-test+tok@mx.target.test>");
  EXPECT_EQ(find(all, "bang-path-server").mail_from, "<probe+tok@[127.0.0.9]>");
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
