// Relay-trick spellings decoded as old MTAs read them, and which trick-only
// host relays for which spelling.
#include "lab/tricks.hpp"

#include <gtest/gtest.h>

namespace relayscope::lab {
namespace {

const HostIdentity self{"d00042.test", "mx.d00042.test", "[127.1.0.42]"};

DecodedPath dec(const std::string& raw) {
  auto d = decode_path(raw, self);
  EXPECT_TRUE(d.has_value()) << raw;
  return d ? *d : DecodedPath{};
}

TEST(RawPath, TakesTheBracketedPathOutsideQuotes) {
  EXPECT_EQ(raw_path_of("MAIL FROM:<a@b.test> SIZE=10"), "a@b.test");
  EXPECT_EQ(raw_path_of("RCPT TO:<\"a>b\"@c.test>"), "\"a>b\"@c.test");
  EXPECT_EQ(raw_path_of("MAIL FROM:<>"), "");
  EXPECT_EQ(raw_path_of("rcpt to: bare@x.test NOTIFY=NEVER"), "bare@x.test");
  EXPECT_FALSE(raw_path_of("MAIL FROM"));
  EXPECT_FALSE(raw_path_of("MAIL FROM:<unterminated"));
}

TEST(DecodePath, PlainAndNull) {
  auto p = dec("t@target.test");
  EXPECT_EQ(p.mailbox(), "t@target.test");
  EXPECT_FALSE(p.percent || p.bang || p.quoted || p.source_route || p.double_at);
  EXPECT_TRUE(dec("<>").null);
  EXPECT_TRUE(dec("").null);
}

TEST(DecodePath, PercentHackOnlyWhenTheHostIsThisOne) {
  for (const char* h : {"mx.d00042.test", "[127.1.0.42]", "d00042.test", "MX.D00042.TEST."}) {
    auto p = dec(std::string("t%target.test@") + h);
    EXPECT_TRUE(p.percent) << h;
    EXPECT_EQ(p.mailbox(), "t@target.test") << h;
  }
  auto elsewhere = dec("t%target.test@other.test");
  EXPECT_FALSE(elsewhere.percent);
  EXPECT_EQ(elsewhere.domain, "other.test");
}

TEST(DecodePath, BangPathsQuotesSourceRoutesDoubleAt) {
  auto b = dec("target.test!t");
  EXPECT_TRUE(b.bang);
  EXPECT_EQ(b.mailbox(), "t@target.test");
  EXPECT_EQ(dec("target.test!t@[127.1.0.42]").mailbox(), "t@target.test");
  auto q = dec("\"t@target.test\"");
  EXPECT_TRUE(q.quoted);
  EXPECT_FALSE(q.double_at);
  EXPECT_EQ(q.mailbox(), "t@target.test");
  EXPECT_EQ(dec("\"t%target.test\"").mailbox(), "t@target.test");
  EXPECT_EQ(dec("\"t@target.test\"@mx.d00042.test").mailbox(), "t@target.test");
  auto r = dec("@mx.d00042.test:t@target.test");
  EXPECT_TRUE(r.source_route);
  EXPECT_EQ(r.mailbox(), "t@target.test");
  auto d = dec("t@target.test@[127.1.0.42]");
  EXPECT_TRUE(d.double_at);
  EXPECT_TRUE(d.literal_host);
  EXPECT_EQ(d.mailbox(), "t@target.test");
  auto at = dec("t@target.test@");
  EXPECT_TRUE(at.trailing_at);
  EXPECT_EQ(at.mailbox(), "t@target.test");
}

TEST(DecodePath, CaseAndTrailingDot) {
  auto u = dec("t@TARGET.test");
  EXPECT_TRUE(u.upper_case);
  EXPECT_EQ(u.domain, "target.test");
  auto t = dec("t@target.test.");
  EXPECT_TRUE(t.trailing_dot);
  EXPECT_EQ(t.domain, "target.test");
}

TEST(DecodePath, RejectsWhatIsNoPath) {
  EXPECT_FALSE(decode_path("\"unterminated@x", self));
  EXPECT_FALSE(decode_path("@route-without-colon", self));
  EXPECT_FALSE(decode_path("\"q\"junk", self));
  EXPECT_FALSE(decode_path(std::string(600, 'a') + "@x.test", self));
}

bool relays(Behaviour b, const std::string& from, const std::string& to, bool auth_failed = false) {
  return trick_relays(b, {dec(from), dec(to), auth_failed}, self);
}

TEST(TrickRelays, EachTrickRelaysForItsSpellingAndNotForThePlainOne) {
  const std::string ours = "probe+tok@collector.test", plain = "t@target.test";
  struct Case {
    Behaviour b;
    std::string from, to;
  };
  std::vector<Case> cases{
      {Behaviour::trick_percent_hack, ours, "t%target.test@mx.d00042.test"},
      {Behaviour::trick_bang_path, ours, "target.test!t"},
      {Behaviour::trick_quoted_local, ours, "\"t@target.test\""},
      {Behaviour::trick_source_route, ours, "@mx.d00042.test:t@target.test"},
      {Behaviour::trick_address_literal, ours, "t@target.test@[127.1.0.42]"},
      {Behaviour::trick_null_sender, "", plain},
      {Behaviour::trick_spoofed_local_sender, "probe+tok@d00042.test", plain},
      {Behaviour::trick_upper_case_domain, ours, "t@TARGET.TEST"},
      {Behaviour::trick_trailing_dot_domain, ours, "t@target.test."},
      {Behaviour::trick_unqualified_sender, "probe+tok", plain},
      {Behaviour::trick_sender_localhost, "probe+tok@localhost", plain},
      {Behaviour::trick_sender_equals_recipient, plain, plain},
      {Behaviour::trick_trailing_at, ours, "t@target.test@"},
      {Behaviour::trick_double_at, ours, "t@target.test@mx.d00042.test"},
      {Behaviour::trick_double_at, ours, "t@target.test@[127.1.0.42]"},
      {Behaviour::trick_sender_at_literal, "probe+tok@[127.1.0.42]", plain},
  };
  for (const auto& c : cases) {
    EXPECT_TRUE(relays(c.b, c.from, c.to)) << info(c.b).name;
    EXPECT_FALSE(relays(c.b, ours, plain)) << info(c.b).name << " relayed the plain form";
  }
  EXPECT_TRUE(relays(Behaviour::trick_after_failed_auth, ours, plain, true));
  EXPECT_FALSE(relays(Behaviour::trick_after_failed_auth, ours, plain, false));
  EXPECT_FALSE(relays(Behaviour::relay_denied, "", "t%target.test@mx.d00042.test"));
}

TEST(TrickRelays, TricksDoNotCrossOver) {
  // The percent-hack host does not take a bang path, and so on.
  EXPECT_FALSE(relays(Behaviour::trick_percent_hack, "a@b.test", "target.test!t"));
  EXPECT_FALSE(relays(Behaviour::trick_bang_path, "a@b.test", "t%target.test@mx.d00042.test"));
  EXPECT_FALSE(relays(Behaviour::trick_quoted_local, "a@b.test", "@mx.d00042.test:t@target.test"));
  EXPECT_FALSE(relays(Behaviour::trick_spoofed_local_sender, "a@[127.1.0.42]", "t@target.test"));
  EXPECT_FALSE(relays(Behaviour::trick_upper_case_domain, "a@b.test", "t@target.test."));
  EXPECT_FALSE(relays(Behaviour::trick_double_at, "a@b.test", "t@target.test@other.test"));
  EXPECT_FALSE(relays(Behaviour::trick_double_at, "a@b.test", "\"t@target.test\"@[127.1.0.42]"));
  EXPECT_FALSE(relays(Behaviour::trick_sender_at_literal, "a@[127.9.9.9]", "t@target.test"));
  EXPECT_FALSE(relays(Behaviour::trick_sender_at_literal, "a@d00042.test", "t@target.test"));
}

}  // namespace
}  // namespace relayscope::lab
