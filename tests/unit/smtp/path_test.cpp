// The RFC 5321 path grammar, table-driven: every form that must parse (with
// what it parses to) and every form that must not, plus parse->wire->parse
// round trips and the length limits.
#include "smtp/path.hpp"

#include <gtest/gtest.h>

namespace relayscope::smtp {
namespace {

struct Valid {
  const char* text;
  PathKind kind;
  const char* local;
  Host::Kind host_kind;
  const char* host;
  std::size_t route_hops;
  const char* wire;  // expected canonical wire form
};

constexpr auto R = PathKind::reverse;
constexpr auto F = PathKind::forward;
constexpr auto D = Host::Kind::domain;
constexpr auto V4 = Host::Kind::ipv4_literal;
constexpr auto V6 = Host::Kind::ipv6_literal;
constexpr auto G = Host::Kind::general_literal;

const Valid valid[] = {
    {"<a@b>", F, "a", D, "b", 0, "<a@b>"},
    {"<user@example.test>", F, "user", D, "example.test", 0, "<user@example.test>"},
    {"<First.Last@Example.TEST>", F, "First.Last", D, "Example.TEST", 0,
     "<First.Last@Example.TEST>"},
    {"<a.b.c@x-y.z9>", F, "a.b.c", D, "x-y.z9", 0, "<a.b.c@x-y.z9>"},
    {"<!#$%&'*+-/=?^_`{|}~@h>", F, "!#$%&'*+-/=?^_`{|}~", D, "h", 0, "<!#$%&'*+-/=?^_`{|}~@h>"},
    {"<user%target@host>", F, "user%target", D, "host", 0, "<user%target@host>"},
    {"<target!user@host>", F, "target!user", D, "host", 0, "<target!user@host>"},
    {"<1@2.3>", F, "1", D, "2.3", 0, "<1@2.3>"},
    {"<u@1-2.example>", F, "u", D, "1-2.example", 0, "<u@1-2.example>"},
    {"<u@a--b.example>", F, "u", D, "a--b.example", 0, "<u@a--b.example>"},
    // Quoted local parts.
    {"<\"john doe\"@h>", F, "john doe", D, "h", 0, "<\"john doe\"@h>"},
    {"<\"user@target\"@host>", F, "user@target", D, "host", 0, "<\"user@target\"@host>"},
    {"<\"a\\\"b\"@h>", F, "a\"b", D, "h", 0, "<\"a\\\"b\"@h>"},
    {"<\"a\\\\b\"@h>", F, "a\\b", D, "h", 0, "<\"a\\\\b\"@h>"},
    {"<\"\\a\"@h>", F, "a", D, "h", 0, "<a@h>"},            // a needless quoted-pair
    {"<\"plain\"@h>", F, "plain", D, "h", 0, "<plain@h>"},  // quotes dropped on the wire
    {"<\"\"@h>", F, "", D, "h", 0, "<\"\"@h>"},
    {"<\".a\"@h>", F, ".a", D, "h", 0, "<\".a\"@h>"},
    {"<\"a..b\"@h>", F, "a..b", D, "h", 0, "<\"a..b\"@h>"},
    {"<\" \"@h>", F, " ", D, "h", 0, "<\" \"@h>"},
    // Address literals.
    {"<u@[192.0.2.1]>", F, "u", V4, "192.0.2.1", 0, "<u@[192.0.2.1]>"},
    {"<u@[0.0.0.0]>", F, "u", V4, "0.0.0.0", 0, "<u@[0.0.0.0]>"},
    {"<u@[255.255.255.255]>", F, "u", V4, "255.255.255.255", 0, "<u@[255.255.255.255]>"},
    {"<u@[IPv6:2001:db8::1]>", F, "u", V6, "2001:db8::1", 0, "<u@[IPv6:2001:db8::1]>"},
    {"<u@[ipv6:::1]>", F, "u", V6, "::1", 0, "<u@[IPv6:::1]>"},
    {"<u@[IPv6:1:2:3:4:5:6:7:8]>", F, "u", V6, "1:2:3:4:5:6:7:8", 0, "<u@[IPv6:1:2:3:4:5:6:7:8]>"},
    {"<u@[IPv6:::]>", F, "u", V6, "::", 0, "<u@[IPv6:::]>"},
    {"<u@[IPv6:1::]>", F, "u", V6, "1::", 0, "<u@[IPv6:1::]>"},
    {"<u@[IPv6:::ffff:192.0.2.1]>", F, "u", V6, "::ffff:192.0.2.1", 0,
     "<u@[IPv6:::ffff:192.0.2.1]>"},
    {"<u@[IPv6:1:2:3:4:5:6:192.0.2.1]>", F, "u", V6, "1:2:3:4:5:6:192.0.2.1", 0,
     "<u@[IPv6:1:2:3:4:5:6:192.0.2.1]>"},
    {"<u@[IPv6:::192.0.2.1]>", F, "u", V6, "::192.0.2.1", 0, "<u@[IPv6:::192.0.2.1]>"},
    {"<u@[x-tag:any-content]>", F, "u", G, "x-tag:any-content", 0, "<u@[x-tag:any-content]>"},
    {"<u@[tag:a:b:c]>", F, "u", G, "tag:a:b:c", 0, "<u@[tag:a:b:c]>"},
    // Source routes.
    {"<@a:u@b>", F, "u", D, "b", 1, "<@a:u@b>"},
    {"<@a,@b.c:u@d>", F, "u", D, "d", 2, "<@a,@b.c:u@d>"},
    {"<@a:\"q q\"@[192.0.2.1]>", F, "q q", V4, "192.0.2.1", 1, "<@a:\"q q\"@[192.0.2.1]>"},
    // <Postmaster> (RFC 5321 4.1.1.3) is a recipient without a domain.
    {"<Postmaster>", F, "Postmaster", D, "", 0, "<Postmaster>"},
    {"<postMASTER>", F, "postMASTER", D, "", 0, "<postMASTER>"},
};

TEST(Path, ValidForms) {
  for (const auto& v : valid) {
    SCOPED_TRACE(v.text);
    auto p = parse_path(v.text, v.kind);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_FALSE(p->null);
    EXPECT_EQ(p->mailbox.local_part, v.local);
    EXPECT_EQ(p->mailbox.host.kind, v.host_kind);
    EXPECT_EQ(p->mailbox.host.text, v.host);
    EXPECT_EQ(p->source_route.size(), v.route_hops);
    EXPECT_EQ(p->wire(), v.wire);
    // Round trip: the wire form parses back to the same values.
    auto again = parse_path(p->wire(), v.kind);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->mailbox.local_part, p->mailbox.local_part);
    EXPECT_EQ(again->mailbox.host.text, p->mailbox.host.text);
    EXPECT_EQ(again->mailbox.host.kind, p->mailbox.host.kind);
    EXPECT_EQ(again->source_route, p->source_route);
    EXPECT_EQ(again->wire(), p->wire());
    // Every valid forward path is a valid reverse path too (except Postmaster).
    if (std::string_view(v.host).empty()) {
      EXPECT_FALSE(parse_path(v.text, R));
    } else {
      EXPECT_TRUE(parse_path(v.text, R));
    }
  }
}

TEST(Path, QuotedFlag) {
  auto q = parse_path("<\"john doe\"@h>", F);
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->mailbox.local_part_was_quoted);
  auto d = parse_path("<john@h>", F);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->mailbox.local_part_was_quoted);
}

TEST(Path, NullPathOnlyAsReversePath) {
  auto r = parse_path("<>", R);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->null);
  EXPECT_EQ(r->wire(), "<>");
  EXPECT_FALSE(parse_path("<>", F));
  EXPECT_FALSE(parse_path("", R, /*lenient=*/true));
  EXPECT_FALSE(parse_path("<>", F, /*lenient=*/true));
}

const char* const invalid[] = {
    "",
    "a@b",  // no brackets (strict)
    "<a@b",
    "a@b>",
    "<<a@b>>",
    "< a@b>",
    "<a@b >",
    "<a @b>",
    "<a@ b>",
    "<a>",                    // no domain
    "<u@[127.000.000.001]>",  // leading zeros: octal to some readers
    "<u@[10.0.0.01]>",
    "<u@[IPv6:::ffff:10.0.0.01]>",
    "<@b>",
    "<a@>",
    "<a@@b>",
    "<a@b@c>",
    "<.a@b>",
    "<a.@b>",
    "<a..b@b>",
    "<a b@c>",
    "<a(comment)@b>",
    "<a,b@c>",
    "<a:b@c>",
    "<a;b@c>",
    "<a<b@c>",
    "<a[b@c>",
    "<a\\b@c>",
    "<\"a@b>",       // unterminated quote
    "<\"a\"b@c>",    // text after the quoted string
    "<\"a\\\"@c>",   // escaped closing quote: unterminated
    "<\"a\tb\"@c>",  // TAB is not qtextSMTP
    "<\"a\x01\"@c>",
    "<\"a\x7f\"@c>",
    "<a@-b.c>",
    "<a@b-.c>",
    "<a@b..c>",
    "<a@.b>",
    "<a@b.>",  // trailing dot (strict)
    "<a@b_c>",
    "<a@b c>",
    "<a@*.b>",
    "<a@b:25>",
    "<a@[]>",
    "<a@[192.0.2.1>",
    "<a@192.0.2.1]>",
    "<a@[192.0.2]>",
    "<a@[192.0.2.256]>",
    "<a@[192.0.2.1.5]>",
    "<a@[1234.0.0.1]>",
    "<a@[192.0.2.-1]>",
    "<a@[ 192.0.2.1]>",
    "<a@[192.0.2.1]x>",
    "<a@[IPv6:]>",
    "<a@[IPv6:1:2:3:4:5:6:7]>",
    "<a@[IPv6:1:2:3:4:5:6:7:8:9]>",
    "<a@[IPv6:1:2:3:4:5:6::7]>",  // "::" must stand for two or more groups
    "<a@[IPv6:1::2::3]>",
    "<a@[IPv6:1:::2]>",
    "<a@[IPv6:12345::1]>",
    "<a@[IPv6:g::1]>",
    "<a@[IPv6::1]>",
    "<a@[IPv6:1:]>",
    "<a@[IPv6:1:2:3:4:5::192.0.2.1]>",  // with IPv4: "::" for two or more groups
    "<a@[IPv6:1:2:3:4:5:192.0.2.1]>",
    "<a@[IPv6:::192.0.2]>",
    "<a@[IPv6:::192.0.2.256]>",
    "<a@[IPv6:192.0.2.1]>",
    "<a@[IPv6:fe80::1%eth0]>",
    "<a@[-:x]>",
    "<a@[tag-:x]>",
    "<a@[tag:]>",
    "<a@[tag:a\\b]>",
    "<a@[tag:a b]>",
    "<a@[tag:a[b]>",
    "<:a@b>",
    "<@:a@b>",
    "<@a a@b>",
    "<@a,a@b>",
    "<@a,:a@b>",
    "<@a:@b:c@d>",
    "<@[192.0.2.1]:a@b>",  // literal hops: lenient only
    "<@a.:u@b>",
    "<us\xc3\xa9r@b>",  // UTF-8 without SMTPUTF8
    "<user@b\xc3\xa9>",
    "<a\x00@b>",
};

TEST(Path, InvalidForms) {
  for (const char* text : invalid) {
    std::string_view t(text);
    SCOPED_TRACE(text);
    auto p = parse_path(t, F);
    EXPECT_FALSE(p) << "parsed as " << p->wire();
    EXPECT_FALSE(parse_path(t, R));
  }
  // A NUL inside the string (the literal above stops at it).
  EXPECT_FALSE(parse_path(std::string_view("<a\0b@c>", 7), F));
  EXPECT_FALSE(parse_path(std::string_view("<ab@c\0>", 7), F));
}

TEST(Path, GeneralLiteralLookalike) {
  // "[2001:db8::1]" without "IPv6:" is grammatically a General-address-literal
  // with tag "2001"; it must never be taken for an IPv6 address.
  auto p = parse_path("<a@[2001:db8::1]>", F);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->mailbox.host.kind, Host::Kind::general_literal);
}

TEST(Path, ErrorMessagesSayWhy) {
  auto p = parse_path("<a@b..c>", F);
  ASSERT_FALSE(p);
  EXPECT_FALSE(p.error().message.empty());
  auto q = parse_path("a@b", F);
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().message.find("<>"), std::string::npos);
}

TEST(Path, Lenient) {
  auto bare = parse_path("a@b.example", F, /*lenient=*/true);
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ(bare->wire(), "<a@b.example>");

  auto dot = parse_path("<a@b.example.>", F, /*lenient=*/true);
  ASSERT_TRUE(dot) << dot.error().message;
  EXPECT_EQ(dot->mailbox.host.text, "b.example.");

  auto lit = parse_path("<@[192.0.2.1]:a@b>", F, /*lenient=*/true);
  ASSERT_TRUE(lit) << lit.error().message;
  EXPECT_EQ(lit->source_route, std::vector<std::string>{"[192.0.2.1]"});
  EXPECT_EQ(lit->wire(), "<@[192.0.2.1]:a@b>");

  // Lenient is not lawless.
  for (const char* bad : {"a@b..c", "<a@b", "a@b>", "a b@c", "a@b c", "<a@b..>", "<a@.>"}) {
    EXPECT_FALSE(parse_path(bad, F, true)) << bad;
  }
}

TEST(Path, LengthLimits) {
  std::string local64(64, 'l');
  std::string local65(65, 'l');
  EXPECT_TRUE(parse_path("<" + local64 + "@h>", F));
  EXPECT_FALSE(parse_path("<" + local65 + "@h>", F));
  // Quotes count: the limit is on the local part as written.
  EXPECT_TRUE(parse_path("<\"" + std::string(62, 'q') + "\"@h>", F));
  EXPECT_FALSE(parse_path("<\"" + std::string(63, 'q') + "\"@h>", F));

  std::string label63(63, 'd');
  std::string label64(64, 'd');
  EXPECT_TRUE(parse_path("<u@" + label63 + ".test>", F));
  EXPECT_FALSE(parse_path("<u@" + label64 + ".test>", F));

  // Domain: 255 octets max. Four 63-octet labels with dots = 255.
  std::string d255 = label63 + "." + label63 + "." + label63 + "." + label63;
  ASSERT_EQ(d255.size(), 255u);
  auto host = parse_host(d255);
  EXPECT_TRUE(host) << host.error().message;
  EXPECT_FALSE(parse_host(d255 + "x"));

  // Path: 256 octets including the brackets.
  PathLimits limits;
  std::string dom = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') +
                    "." + std::string(61, 'e');  // 253
  std::string fits = "<u@" + dom + ">";          // 257
  EXPECT_EQ(fits.size(), 257u);
  EXPECT_FALSE(parse_path(fits, F));
  std::string fits256 = "<u@" + dom.substr(0, 252) + ">";
  EXPECT_EQ(fits256.size(), 256u);
  EXPECT_TRUE(parse_path(fits256, F));

  // Custom limits.
  limits.max_local_part = 3;
  EXPECT_TRUE(parse_path("<abc@h>", F, false, limits));
  EXPECT_FALSE(parse_path("<abcd@h>", F, false, limits));
}

TEST(Path, ParseMailbox) {
  auto m = parse_mailbox("user@example.test");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->local_part, "user");
  EXPECT_EQ(m->host.text, "example.test");
  EXPECT_EQ(m->wire(), "user@example.test");
  EXPECT_FALSE(parse_mailbox("<user@example.test>"));
  EXPECT_FALSE(parse_mailbox("user"));
  EXPECT_FALSE(parse_mailbox("user@example.test extra"));
  EXPECT_FALSE(parse_mailbox(""));
}

TEST(Path, ParseHost) {
  auto d = parse_host("Example.Test");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, Host::Kind::domain);
  EXPECT_EQ(d->wire(), "Example.Test");
  auto v4 = parse_host("[192.0.2.1]");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->kind, Host::Kind::ipv4_literal);
  auto v6 = parse_host("[IPv6:2001:DB8::1]");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->text, "2001:DB8::1");
  EXPECT_EQ(v6->wire(), "[IPv6:2001:DB8::1]");
  EXPECT_FALSE(parse_host("example.test."));
  EXPECT_TRUE(parse_host("example.test.", true));
  EXPECT_FALSE(parse_host(""));
  EXPECT_FALSE(parse_host("."));
  EXPECT_FALSE(parse_host(".", true));
}

TEST(Path, DotString) {
  EXPECT_TRUE(is_dot_string("a"));
  EXPECT_TRUE(is_dot_string("a.b"));
  EXPECT_TRUE(is_dot_string("a+tag"));
  EXPECT_FALSE(is_dot_string(""));
  EXPECT_FALSE(is_dot_string(".a"));
  EXPECT_FALSE(is_dot_string("a."));
  EXPECT_FALSE(is_dot_string("a..b"));
  EXPECT_FALSE(is_dot_string("a b"));
  EXPECT_FALSE(is_dot_string("a@b"));
  EXPECT_FALSE(is_dot_string("a\"b"));
}

TEST(Path, WireQuotesWhenNeeded) {
  Mailbox m;
  m.host.text = "h";
  m.local_part = "a b";
  EXPECT_EQ(m.wire(), "\"a b\"@h");
  m.local_part = "a\"b\\c";
  EXPECT_EQ(m.wire(), "\"a\\\"b\\\\c\"@h");
  auto back = parse_path("<" + m.wire() + ">", F);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->mailbox.local_part, "a\"b\\c");
  m.local_part = "plain.dot";
  EXPECT_EQ(m.wire(), "plain.dot@h");
}

}  // namespace
}  // namespace relayscope::smtp
