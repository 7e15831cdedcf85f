// Reply parser: single and multi-line replies, codes, enhanced status codes,
// limits, garbage, and the wire form.
#include "smtp/reply.hpp"

#include <gtest/gtest.h>

namespace relayscope::smtp {
namespace {

TEST(Reply, SingleLine) {
  auto r = parse_reply("250 2.1.0 Ok\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->code, 250);
  ASSERT_TRUE(r->status.has_value());
  EXPECT_EQ(r->status->to_string(), "2.1.0");
  ASSERT_EQ(r->lines.size(), 1u);
  EXPECT_EQ(r->lines[0], "2.1.0 Ok");
  EXPECT_TRUE(r->positive());
  EXPECT_FALSE(r->transient());
  EXPECT_FALSE(r->permanent());
}

TEST(Reply, MultiLine) {
  auto r = parse_reply("250-mx.example.test hello\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->code, 250);
  ASSERT_EQ(r->lines.size(), 3u);
  EXPECT_EQ(r->lines[0], "mx.example.test hello");
  EXPECT_EQ(r->lines[1], "PIPELINING");
  EXPECT_EQ(r->lines[2], "SIZE 1000");
  EXPECT_EQ(r->text(), "mx.example.test hello PIPELINING SIZE 1000");
  EXPECT_FALSE(r->status.has_value());
}

TEST(Reply, IncrementalNeedsMoreUntilLastLine) {
  ReplyParser p;
  EXPECT_FALSE(p.in_progress());
  EXPECT_FALSE(p.feed_line("220-first").has_value());
  EXPECT_TRUE(p.in_progress());
  EXPECT_FALSE(p.feed_line("220-second").has_value());
  auto r = p.feed_line("220 last");
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->lines.size(), 3u);
  EXPECT_FALSE(p.in_progress());
  // The parser is ready for the next reply at once.
  auto next = p.feed_line("354 go ahead");
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->code, 354);
}

TEST(Reply, CodeAloneIsAFinalLine) {
  auto r = parse_reply("250\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->code, 250);
  ASSERT_EQ(r->lines.size(), 1u);
  EXPECT_EQ(r->lines[0], "");

  auto m = parse_reply("250-a\r\n250\r\n");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->lines.size(), 2u);
}

TEST(Reply, EmptyContinuationText) {
  auto r = parse_reply("250-\r\n250 end\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->lines[0], "");
}

TEST(Reply, CodeRange) {
  for (const char* bad : {"199 x", "000 x", "600 x", "999 x", "100 x"}) {
    EXPECT_FALSE(parse_reply(bad)) << bad;
  }
  for (const char* good : {"200 x", "599 x", "354 x", "421 x"}) {
    EXPECT_TRUE(parse_reply(good)) << good;
  }
}

TEST(Reply, MixedCodesAreAnError) {
  ReplyParser p;
  EXPECT_FALSE(p.feed_line("250-a").has_value());
  auto r = p.feed_line("251 b");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  EXPECT_NE(r->error().message.find("differ"), std::string::npos);
  EXPECT_FALSE(p.in_progress());  // an error resets the parser
}

TEST(Reply, Garbage) {
  for (const char* bad : {"", "ok", "25", "2500 x", "25a x", "250x", "250_x", "HTTP/1.1 400",
                          " 250 x", "250\tx", "-250 x", "+OK"}) {
    auto r = parse_reply(bad);
    EXPECT_FALSE(r) << "'" << bad << "'";
  }
}

TEST(Reply, IncompleteAndTrailing) {
  EXPECT_FALSE(parse_reply("250-a\r\n250-b\r\n"));
  EXPECT_FALSE(parse_reply("250 a\r\n250 b\r\n"));
  EXPECT_TRUE(parse_reply("250 a"));  // the final CRLF may be missing
}

TEST(Reply, LineLengthLimit) {
  ReplyLimits limits;
  limits.max_line_length = 20;
  EXPECT_TRUE(parse_reply("250 " + std::string(16, 'x'), limits));
  EXPECT_FALSE(parse_reply("250 " + std::string(17, 'x'), limits));
}

TEST(Reply, LineCountLimit) {
  ReplyLimits limits;
  limits.max_lines = 3;
  EXPECT_TRUE(parse_reply("250-a\r\n250-b\r\n250 c\r\n", limits));
  auto r = parse_reply("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", limits);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("too many"), std::string::npos);
}

TEST(Reply, EndlessContinuationIsBounded) {
  ReplyParser p;  // default limits
  std::optional<Expected<Reply>> r;
  std::size_t fed = 0;
  while (!r && fed < 10000) {
    r = p.feed_line("250-more");
    ++fed;
  }
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(fed, ReplyLimits{}.max_lines + 1);
}

TEST(Reply, EnhancedStatusMustMatchClass) {
  auto r = parse_reply("550 5.7.1 Relaying denied");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, (EnhancedStatus{5, 7, 1}));

  auto mismatch = parse_reply("550 2.0.0 odd");
  ASSERT_TRUE(mismatch);
  EXPECT_FALSE(mismatch->status.has_value());

  auto transient = parse_reply("451 4.3.0 Try later");
  ASSERT_TRUE(transient);
  EXPECT_TRUE(transient->transient());
  EXPECT_EQ(transient->status, (EnhancedStatus{4, 3, 0}));

  // Only the first line counts.
  auto later = parse_reply("250-hello\r\n250 2.0.0 ok\r\n");
  ASSERT_TRUE(later);
  EXPECT_FALSE(later->status.has_value());
  auto first = parse_reply("550-5.1.1 no such user\r\n550 5.1.1 really\r\n");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, (EnhancedStatus{5, 1, 1}));
}

TEST(Reply, EnhancedStatusGrammar) {
  EXPECT_EQ(parse_enhanced_status("5.7.1"), (EnhancedStatus{5, 7, 1}));
  EXPECT_EQ(parse_enhanced_status("2.123.456 text"), (EnhancedStatus{2, 123, 456}));
  for (const char* bad : {"", "5", "5.7", "5.7.", "3.0.0 x", "1.0.0", "5.7.1x", "5.1234.1",
                          "5.1.1234", "55.1.1", ".5.7.1", "5..1", "a.b.c", "5.7.1.2"}) {
    EXPECT_FALSE(parse_enhanced_status(bad).has_value()) << bad;
  }
}

TEST(Reply, WireRoundTrip) {
  Reply r;
  r.code = 250;
  r.lines = {"mx hello", "PIPELINING", "SIZE 10"};
  EXPECT_EQ(r.wire(), "250-mx hello\r\n250-PIPELINING\r\n250 SIZE 10\r\n");
  auto back = parse_reply(r.wire());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->lines, r.lines);
  EXPECT_EQ(back->code, 250);

  Reply bare;
  bare.code = 221;
  EXPECT_EQ(bare.wire(), "221\r\n");
}

TEST(Reply, WireNeverCarriesLineBreaksFromText) {
  Reply r;
  r.code = 550;
  r.lines = {"no\r\n250 ok"};
  EXPECT_EQ(r.wire(), "550 no  250 ok\r\n");
}

}  // namespace
}  // namespace relayscope::smtp
