// Where a recipient really goes: every relay-trick spelling resolved, and the
// safe rule (every domain and literal mentioned must be local) applied.
#include "smtp/route.hpp"

#include <gtest/gtest.h>

#include <set>

namespace relayscope::smtp {
namespace {

using Strings = std::vector<std::string>;

Route route(std::string_view path, bool lenient = false) {
  auto p = parse_path(path, PathKind::forward, lenient);
  EXPECT_TRUE(p) << path << ": " << p.error().message;
  return p ? resolve_route(*p) : Route{};
}

// The policy of a relay whose local domain is example.test and whose own
// address is 127.0.0.1 (and ::1).
bool local(const Route& r) {
  std::set<std::string, std::less<>> domains{"example.test", "mx.example.test"};
  std::set<std::string, std::less<>> addresses{"127.0.0.1", "::1"};
  return r.is_local([&](std::string_view d) { return domains.count(d) > 0; },
                    [&](std::string_view a) { return addresses.count(a) > 0; });
}

TEST(Route, PlainAddress) {
  auto r = route("<bob@Example.TEST>");
  EXPECT_EQ(r.domains_in_order, Strings{"example.test"});
  EXPECT_EQ(r.final_domain, "example.test");
  EXPECT_EQ(r.final_local_part, "bob");
  EXPECT_FALSE(r.ambiguous);
  EXPECT_FALSE(r.has_literal);
  EXPECT_TRUE(local(r));
  EXPECT_FALSE(local(route("<bob@victim.test>")));
}

TEST(Route, TrailingDotAndCase) {
  auto r = route("<bob@EXAMPLE.test.>", /*lenient=*/true);
  EXPECT_EQ(r.final_domain, "example.test");
  EXPECT_TRUE(local(r));
}

TEST(Route, SourceRoute) {
  auto r = route("<@example.test:bob@victim.test>");
  EXPECT_TRUE(r.source_routed);
  EXPECT_EQ(r.domains_in_order, (Strings{"example.test", "victim.test"}));
  EXPECT_EQ(r.final_domain, "victim.test");
  EXPECT_FALSE(local(r));  // first hop local, final not: refused

  auto back = route("<@victim.test:bob@example.test>");
  EXPECT_EQ(back.domains_in_order, (Strings{"victim.test", "example.test"}));
  EXPECT_FALSE(local(back));  // a non-local hop: refused

  auto all_local = route("<@MX.example.test,@example.test:bob@example.test>");
  EXPECT_EQ(all_local.domains_in_order.size(), 3u);
  EXPECT_TRUE(local(all_local));
}

TEST(Route, PercentHack) {
  auto r = route("<bob%victim.test@example.test>");
  EXPECT_TRUE(r.percent_hack);
  EXPECT_EQ(r.domains_in_order, (Strings{"example.test", "victim.test"}));
  EXPECT_EQ(r.final_domain, "victim.test");
  EXPECT_EQ(r.final_local_part, "bob");
  EXPECT_FALSE(local(r));

  auto nested = route("<a%b.test%c.test@example.test>");
  EXPECT_EQ(nested.domains_in_order, (Strings{"example.test", "c.test", "b.test"}));
  EXPECT_EQ(nested.final_domain, "b.test");
  EXPECT_EQ(nested.final_local_part, "a");

  EXPECT_TRUE(local(route("<bob%example.test@example.test>")));
}

TEST(Route, BangPaths) {
  auto r = route("<victim.test!bob@example.test>");
  EXPECT_TRUE(r.bang_path);
  EXPECT_EQ(r.domains_in_order, (Strings{"example.test", "victim.test"}));
  EXPECT_EQ(r.final_domain, "victim.test");
  EXPECT_EQ(r.final_local_part, "bob");
  EXPECT_FALSE(local(r));

  auto nested = route("<x.test!y.test!user@example.test>");
  EXPECT_EQ(nested.domains_in_order, (Strings{"example.test", "x.test", "y.test"}));
  EXPECT_EQ(nested.final_domain, "y.test");
  EXPECT_EQ(nested.final_local_part, "user");

  // A bare bang path without any domain (as from a UUCP-style address).
  Mailbox bare;
  bare.local_part = "victim.test!bob";
  auto b = resolve_route(bare);
  EXPECT_EQ(b.final_domain, "victim.test");
  EXPECT_EQ(b.final_local_part, "bob");
  EXPECT_FALSE(local(b));
}

TEST(Route, QuotedAt) {
  auto r = route("<\"bob@victim.test\"@example.test>");
  EXPECT_TRUE(r.quoted_at);
  EXPECT_EQ(r.domains_in_order, (Strings{"example.test", "victim.test"}));
  EXPECT_EQ(r.final_domain, "victim.test");
  EXPECT_FALSE(local(r));

  auto literal = route("<\"bob@[192.0.2.9]\"@example.test>");
  EXPECT_TRUE(literal.has_literal);
  EXPECT_EQ(literal.literals, Strings{"192.0.2.9"});
  EXPECT_EQ(literal.final_domain, "[192.0.2.9]");
  EXPECT_TRUE(literal.final_is_literal);
  EXPECT_FALSE(local(literal));

  auto dot = route("<\"bob@victim.test.\"@example.test>");
  EXPECT_EQ(dot.final_domain, "victim.test");
  EXPECT_FALSE(dot.ambiguous);
}

TEST(Route, AddressLiterals) {
  auto r = route("<bob@[127.0.0.1]>");
  EXPECT_TRUE(r.has_literal);
  EXPECT_EQ(r.literals, Strings{"127.0.0.1"});
  EXPECT_TRUE(r.domains_in_order.empty());
  EXPECT_EQ(r.final_domain, "[127.0.0.1]");
  EXPECT_TRUE(local(r));

  // Leading zeros are octal to inet_aton: refused by the grammar, and as a
  // domain ("0177.0.0.1" is 127.0.0.1 to some) never judged local.
  EXPECT_FALSE(parse_path("<bob@[127.000.000.001]>", PathKind::forward));
  EXPECT_TRUE(route("<bob@0177.0.0.1>").ambiguous);
  EXPECT_FALSE(local(route("<bob%127.0.0.01@example.test>")));

  auto other = route("<bob@[192.0.2.1]>");
  EXPECT_FALSE(local(other));

  auto v6 = route("<bob@[IPv6:0:0:0:0:0:0:0:1]>");
  EXPECT_EQ(v6.literals, Strings{"::1"});
  EXPECT_EQ(v6.final_domain, "[IPv6:::1]");
  EXPECT_TRUE(local(v6));

  auto mapped = route("<bob@[IPv6:::ffff:127.0.0.1]>");
  EXPECT_EQ(mapped.literals, Strings{"::ffff:127.0.0.1"});
  EXPECT_FALSE(local(mapped));  // not literally one of our addresses

  auto general = route("<bob@[x-local:127.0.0.1]>");
  EXPECT_TRUE(general.has_general_literal);
  EXPECT_FALSE(local(general));
}

TEST(Route, DottedQuadDomainIsALiteral) {
  auto r = route("<bob@127.0.0.1>");
  EXPECT_TRUE(r.has_literal);
  EXPECT_EQ(r.literals, Strings{"127.0.0.1"});
  EXPECT_TRUE(r.domains_in_order.empty());
  auto p = route("<bob%192.0.2.1@example.test>");
  EXPECT_EQ(p.literals, Strings{"192.0.2.1"});
  EXPECT_FALSE(local(p));
}

TEST(Route, NumericTopLevelLabelIsAmbiguous) {
  for (const char* path : {"<bob@10.1>", "<bob@2130706433>", "<bob%127.1@example.test>"}) {
    auto r = route(path);
    EXPECT_TRUE(r.ambiguous) << path;
    EXPECT_FALSE(local(r)) << path;
  }
}

TEST(Route, LiteralSourceRouteHop) {
  auto r = route("<@[192.0.2.1]:bob@example.test>", /*lenient=*/true);
  EXPECT_EQ(r.literals, Strings{"192.0.2.1"});
  EXPECT_EQ(r.final_domain, "example.test");
  EXPECT_FALSE(local(r));
}

TEST(Route, MixedSeparatorsAreAmbiguous) {
  auto r = route("<a.test!bob%b.test@example.test>");
  EXPECT_TRUE(r.ambiguous);
  EXPECT_FALSE(local(r));
  auto local_looking = route("<example.test!bob%example.test@example.test>");
  EXPECT_TRUE(local_looking.ambiguous);
  EXPECT_FALSE(local(local_looking));
  // '%' and a quoted '@' agree with each other: not ambiguous.
  auto at_pct = route("<\"a%b.test@c.test\"@example.test>");
  EXPECT_FALSE(at_pct.ambiguous);
  EXPECT_EQ(at_pct.domains_in_order, (Strings{"example.test", "c.test", "b.test"}));
}

TEST(Route, MalformedHopsAreAmbiguous) {
  for (const char* path :
       {"<bob%@example.test>", "<%example.test@example.test>", "<bob%a_b@example.test>",
        "<!bob@example.test>", "<bob!@example.test>", "<\"bob@\"@example.test>",
        "<\"@example.test\"@example.test>", "<\"bob@a b\"@example.test>",
        "<\"bob@[1.2.3]\"@example.test>", "<\"bob%a..b\"@example.test>"}) {
    auto r = route(path);
    EXPECT_TRUE(r.ambiguous) << path;
    EXPECT_FALSE(local(r)) << path;
  }
}

TEST(Route, PostmasterIsLocal) {
  auto r = route("<Postmaster>");
  EXPECT_TRUE(r.domains_in_order.empty());
  EXPECT_EQ(r.final_domain, "");
  EXPECT_EQ(r.final_local_part, "Postmaster");
  EXPECT_TRUE(local(r));
}

TEST(Route, DefaultRouteIsNeverLocal) {
  EXPECT_FALSE(local(Route{}));
}

TEST(Route, NullPathIsNeverLocal) {
  Path p;
  p.null = true;
  auto r = resolve_route(p);
  EXPECT_TRUE(r.ambiguous);
  EXPECT_FALSE(local(r));
}

TEST(Route, EveryLocalSpellingOfALocalAddress) {
  for (const char* path :
       {"<bob@example.test>", "<bob@EXAMPLE.TEST>", "<\"bob\"@example.test>",
        "<bob%mx.example.test@example.test>", "<example.test!bob@example.test>",
        "<\"bob@Example.Test\"@example.test>", "<@mx.example.test:bob@example.test>",
        "<bob@[127.0.0.1]>", "<\"bob@[IPv6:::1]\"@example.test>"}) {
    EXPECT_TRUE(local(route(path))) << path;
  }
}

TEST(Route, NoSpellingOfARemoteAddressIsLocal) {
  // Every trick of the 1998 relay tests, aimed at victim.test through a relay
  // whose local domain is example.test.
  for (const char* path :
       {"<bob@victim.test>", "<bob%victim.test@example.test>", "<bob%victim.test@[127.0.0.1]>",
        "<victim.test!bob@example.test>", "<victim.test!bob@[127.0.0.1]>",
        "<\"bob@victim.test\"@example.test>", "<\"bob%victim.test\"@example.test>",
        "<@example.test:bob@victim.test>", "<@[127.0.0.1]:bob@victim.test>", "<bob@victim.test.>",
        "<bob%victim.test.@example.test>", "<\"bob@victim.test\"@[127.0.0.1]>",
        "<example.test!victim.test!bob@example.test>",
        "<bob%victim.test%example.test@example.test>", "<bob@[192.0.2.1]>",
        "<bob@[IPv6:2001:db8::1]>", "<bob%[192.0.2.1]@example.test>",
        "<\"bob@[192.0.2.1]\"@example.test>"}) {
    auto p = parse_path(path, PathKind::forward, /*lenient=*/true);
    if (!p) continue;  // refused at RCPT: cannot relay either
    EXPECT_FALSE(local(resolve_route(*p))) << path;
  }
}

// The twelve recipient spellings of nmap's smtp-open-relay script, with
// D = remote.test, T = user, S = mx.local.test (our domain), IP = [127.0.0.1]
// (our address). Those the grammar refuses are refused at RCPT; a relay
// cannot pass them on either. The rest must resolve to end at D.
TEST(Route, NmapOpenRelaySpellings) {
  struct Case {
    const char* path;
    bool strict_ok;
    bool lenient_ok;
    Strings hops;
  };
  const Strings via_ip{"[127.0.0.1]", "remote.test"};
  const Strings via_s{"mx.local.test", "remote.test"};
  const Case cases[] = {
      {"<user%remote.test@[127.0.0.1]>", true, true, via_ip},
      {"<user%remote.test@mx.local.test>", true, true, via_s},
      {"<\"user@remote.test\">", false, false, {}},
      {"<\"user%remote.test\">", false, false, {}},
      {"<user@remote.test@[127.0.0.1]>", false, false, {}},
      {"<\"user@remote.test\"@[127.0.0.1]>", true, true, via_ip},
      {"<user@remote.test@mx.local.test>", false, false, {}},
      {"<@[127.0.0.1]:user@remote.test>", false, true, via_ip},
      {"<@mx.local.test:user@remote.test>", true, true, via_s},
      {"<remote.test!user>", false, false, {}},
      {"<remote.test!user@[127.0.0.1]>", true, true, via_ip},
      {"<remote.test!user@mx.local.test>", true, true, via_s},
  };
  auto ours = [](const Route& r) {
    return r.is_local([](std::string_view d) { return d == "mx.local.test"; },
                      [](std::string_view a) { return a == "127.0.0.1"; });
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    EXPECT_EQ(parse_path(c.path, PathKind::forward).has_value(), c.strict_ok);
    auto p = parse_path(c.path, PathKind::forward, /*lenient=*/true);
    ASSERT_EQ(p.has_value(), c.lenient_ok);
    if (!p) continue;
    auto r = resolve_route(*p);
    EXPECT_EQ(r.hops, c.hops);
    EXPECT_EQ(r.final_domain, "remote.test");
    EXPECT_EQ(r.final_local_part, "user");
    EXPECT_TRUE(r.has_trick());
    EXPECT_FALSE(r.ambiguous);
    EXPECT_FALSE(ours(r));
    // The same spelling aimed at ourselves is local: the rule refuses
    // relaying, not our own mail.
    std::string self = c.path;
    self.replace(self.find("remote.test"), 11, "mx.local.test");
    auto q = parse_path(self, PathKind::forward, /*lenient=*/true);
    ASSERT_TRUE(q) << self;
    EXPECT_TRUE(ours(resolve_route(*q))) << self;
  }
  // The host-less spellings, had a lenient reader taken them as bare local
  // parts, still name D and are not local.
  for (const char* local_part : {"user@remote.test", "user%remote.test", "remote.test!user"}) {
    Mailbox m;
    m.local_part = local_part;
    auto r = resolve_route(m);
    EXPECT_EQ(r.hops, Strings{"remote.test"}) << local_part;
    EXPECT_EQ(r.final_local_part, "user");
    EXPECT_FALSE(ours(r)) << local_part;
  }
}

TEST(Route, HopsInterleaveDomainsAndLiterals) {
  auto r = route("<@relay.test,@[192.0.2.1]:\"a%[IPv6:2001:db8::1]%b.test\"@Mx.Test.>", true);
  EXPECT_EQ(r.hops,
            (Strings{"relay.test", "[192.0.2.1]", "mx.test", "b.test", "[IPv6:2001:db8::1]"}));
  EXPECT_EQ(r.hops.back(), r.final_domain);
  EXPECT_TRUE(r.final_is_literal);
  EXPECT_EQ(r.domains_in_order, (Strings{"relay.test", "mx.test", "b.test"}));
  EXPECT_EQ(r.literals, (Strings{"192.0.2.1", "2001:db8::1"}));
  EXPECT_TRUE(r.has_trick());
  EXPECT_FALSE(route("<bob@example.test>").has_trick());
}

}  // namespace
}  // namespace relayscope::smtp
