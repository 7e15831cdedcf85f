// The four rules of "Closing relays" and the resolution of every relay-trick
// spelling before them (RelayPolicy::judge), without any network.
#include "server/policy.hpp"

#include <gtest/gtest.h>

#include "smtp/path.hpp"

namespace relayscope::server {
namespace {

smtp::Path path(const std::string& text) {
  auto p = smtp::parse_path(text, smtp::PathKind::forward, /*lenient=*/true);
  EXPECT_TRUE(p) << text << ": " << (p ? "" : p.error().message);
  return p ? *p : smtp::Path{};
}

class PolicyTest : public ::testing::Test {
 protected:
  PolicyTest() : policy_(networks(), {"example.test", "Other.Example."}) {}
  static CidrSet networks() {
    CidrSet s;
    s.add(*Cidr::parse("127.0.0.2/32"));
    s.add(*Cidr::parse("2001:db8::/32"));
    return s;
  }
  RcptVerdict judge(const char* client, bool auth, const std::string& rcpt) {
    auto ip = IpAddress::parse(client);
    EXPECT_TRUE(ip);
    return policy_.judge(&*ip, auth, path(rcpt));
  }
  RelayPolicy policy_;
};

TEST_F(PolicyTest, TheFourRules) {
  EXPECT_EQ(judge("127.0.0.2", false, "<bob@example.test>").rule, RcptRule::local_to_local);
  EXPECT_EQ(judge("127.0.0.2", false, "<carol@remote.example>").rule, RcptRule::local_to_remote);
  EXPECT_EQ(judge("127.0.0.1", false, "<bob@example.test>").rule, RcptRule::remote_to_local);
  EXPECT_EQ(judge("127.0.0.1", true, "<carol@remote.example>").rule, RcptRule::authenticated);
  auto v = judge("127.0.0.1", false, "<carol@remote.example>");
  EXPECT_FALSE(v.accepted());
  ASSERT_TRUE(v.refusal);
  EXPECT_EQ(v.refusal->code, 554);
  EXPECT_EQ(v.refusal->text().rfind("5.7.1 ", 0), 0u) << v.refusal->text();
}

TEST_F(PolicyTest, IPv6LocalNetwork) {
  EXPECT_TRUE(judge("2001:db8::25", false, "<carol@remote.example>").accepted());
  EXPECT_FALSE(judge("2001:db9::25", false, "<carol@remote.example>").accepted());
}

TEST_F(PolicyTest, UnknownClientIsAStranger) {
  auto v = policy_.judge(nullptr, false, path("<carol@remote.example>"));
  EXPECT_FALSE(v.accepted());
  EXPECT_TRUE(policy_.judge(nullptr, false, path("<bob@example.test>")).accepted());
}

TEST_F(PolicyTest, EveryTrickSpellingOfARemoteAddressIsRefusedToAStranger) {
  for (const char* rcpt : {
           "<victim%remote.example@example.test>",
           "<victim%remote.example%other.example@example.test>",
           "<remote.example!victim@example.test>",
           "<\"victim@remote.example\"@example.test>",
           "<@example.test:victim@remote.example>",
           "<@example.test,@other.example:victim@remote.example>",
           "<victim@[192.0.2.1]>",
           "<victim@[127.0.0.1]>",
           "<victim@[IPv6:2001:db8::1]>",
           "<victim%remote.example@[127.0.0.1]>",
           "<victim@remote.example.>",
           "<VICTIM@REMOTE.EXAMPLE>",
           "<victim@example.test.remote.example>",
           "<victim@192.0.2.1>",
           "<a!b%c@example.test>",
       }) {
    auto v = judge("127.0.0.1", false, rcpt);
    EXPECT_FALSE(v.accepted()) << rcpt;
    ASSERT_TRUE(v.refusal) << rcpt;
    EXPECT_EQ(v.refusal->code, 554) << rcpt;
    EXPECT_FALSE(v.mailbox) << rcpt;
  }
}

TEST_F(PolicyTest, SpellingsThatStayLocalAreLocalMailboxes) {
  struct Case {
    const char* rcpt;
    const char* domain;
    const char* user;
  };
  for (const auto& c : {
           Case{"<Bob@Example.TEST>", "example.test", "bob"},
           Case{"<bob@example.test.>", "example.test", "bob"},
           Case{"<bob%other.example@example.test>", "other.example", "bob"},
           Case{"<other.example!bob@example.test>", "other.example", "bob"},
           Case{"<\"bob@other.example\"@example.test>", "other.example", "bob"},
           Case{"<@example.test:bob@other.example>", "other.example", "bob"},
           Case{"<Postmaster>", "example.test", "postmaster"},
       }) {
    auto v = judge("127.0.0.1", false, c.rcpt);
    EXPECT_TRUE(v.accepted()) << c.rcpt;
    EXPECT_EQ(v.rule, RcptRule::remote_to_local) << c.rcpt;
    ASSERT_TRUE(v.mailbox) << c.rcpt;
    EXPECT_EQ(v.mailbox->domain, c.domain) << c.rcpt;
    EXPECT_EQ(v.mailbox->user, c.user) << c.rcpt;
  }
}

TEST_F(PolicyTest, UnsafeMailboxNamesAreRefused) {
  auto v = judge("127.0.0.1", false, "<\"../etc\"@example.test>");
  EXPECT_FALSE(v.accepted());
  ASSERT_TRUE(v.refusal);
  EXPECT_EQ(v.refusal->code, 550);
  EXPECT_FALSE(safe_mailbox_name(".hidden"));
  EXPECT_FALSE(safe_mailbox_name("a/b"));
  EXPECT_FALSE(safe_mailbox_name(""));
  EXPECT_TRUE(safe_mailbox_name("bob.smith+tag"));
}

TEST_F(PolicyTest, LocalClientMayRelayAnySpelling) {
  // Rule 2: a local client may send anywhere, tricks included; the route
  // decides where the queue sends it.
  EXPECT_TRUE(judge("127.0.0.2", false, "<victim%remote.example@example.test>").accepted());
  EXPECT_EQ(judge("127.0.0.2", false, "<victim%remote.example@example.test>").rule,
            RcptRule::local_to_remote);
}

}  // namespace
}  // namespace relayscope::server
