// Sending side: line endings normalised, leading dots doubled, end marker.
#include "smtp/dot_stuffing.hpp"

#include <gtest/gtest.h>

#include <random>

namespace relayscope::smtp {
namespace {

TEST(DotStuff, Basic) {
  EXPECT_EQ(dot_stuff("hello\r\n"), "hello\r\n.\r\n");
  EXPECT_EQ(dot_stuff("hello"), "hello\r\n.\r\n");
  EXPECT_EQ(dot_stuff(""), ".\r\n");
  EXPECT_EQ(dot_stuff("\r\n"), "\r\n.\r\n");
}

TEST(DotStuff, LeadingDotsDoubled) {
  EXPECT_EQ(dot_stuff(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\r\n.b\r\n..c\r\n"), "a\r\n..b\r\n...c\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a.b\r\n"), "a.b\r\n.\r\n");  // only at a line start
}

TEST(DotStuff, BareLineEndingsBecomeCrlf) {
  EXPECT_EQ(dot_stuff("a\nb\rc\r\nd"), "a\r\nb\r\nc\r\nd\r\n.\r\n");
  // The smuggling spellings cannot survive: each bare ending is a real line
  // ending, so the dot after it is stuffed.
  EXPECT_EQ(dot_stuff("a\n.\nb"), "a\r\n..\r\nb\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\r.\rb"), "a\r\n..\r\nb\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\r\n.\nb"), "a\r\n..\r\nb\r\n.\r\n");
  EXPECT_EQ(dot_stuff("\n\r"), "\r\n\r\n.\r\n");
}

TEST(DotStuff, InPiecesGivesWhatTheWholeMessageGives) {
  // Every split point, including between the CR and the LF of a line end
  // and between a line's start and its leading dot.
  const std::string m = "a\r\n.b\r\n\r\n..c\nd\r\re.\r\n.";
  for (std::size_t cut = 0; cut <= m.size(); ++cut) {
    for (std::size_t cut2 = cut; cut2 <= m.size(); ++cut2) {
      DotStuffer s;
      std::string out;
      s.feed(std::string_view(m).substr(0, cut), out);
      s.feed(std::string_view(m).substr(cut, cut2 - cut), out);
      s.feed(std::string_view(m).substr(cut2), out);
      s.finish(out);
      EXPECT_EQ(out, dot_stuff(m)) << cut << " " << cut2;
    }
  }
}

// Dot-stuffing a byte at a time, as it was before runs of ordinary bytes
// went out in one append: the reference the fast path must agree with.
std::string stuff_reference(std::string_view m) {
  std::string out;
  bool line_start = true, after_cr = false;
  for (char c : m) {
    if (c == '\n' && after_cr) {
      after_cr = false;
      continue;
    }
    after_cr = c == '\r';
    if (c == '\r' || c == '\n') {
      out += "\r\n";
      line_start = true;
      continue;
    }
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  return out + ".\r\n";
}

TEST(DotStuff, AgreesWithTheByteAtATimeStufferOnRandomPieces) {
  std::mt19937 rng(11);
  const char alphabet[] = {'a', '.', '.', '\r', '\n'};
  for (int round = 0; round < 2000; ++round) {
    std::string m;
    auto n = rng() % 40;
    for (std::uint32_t i = 0; i < n; ++i) m += alphabet[rng() % sizeof alphabet];
    DotStuffer s;
    std::string out;
    for (std::size_t at = 0; at < m.size();) {
      auto len = std::min<std::size_t>(1 + rng() % 7, m.size() - at);
      s.feed(std::string_view(m).substr(at, len), out);
      at += len;
    }
    s.finish(out);
    ASSERT_EQ(out, stuff_reference(m)) << round;
  }
}

}  // namespace
}  // namespace relayscope::smtp
