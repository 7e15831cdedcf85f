// printable() (client text into logs, replies, headers), the folding of
// lines over 998 octets on the way out, and NUL bytes refused in DATA.
#include <gtest/gtest.h>

#include <random>

#include "smtp/data_reader.hpp"
#include "smtp/line_fold.hpp"
#include "smtp/printable.hpp"

namespace relayscope::smtp {
namespace {

TEST(Printable, EscapesControlsAndEightBit) {
  EXPECT_EQ(printable("ok.example"), "ok.example");
  EXPECT_EQ(printable(std::string("a\x1b[2J\x07\0b\r\n\xff", 11)), "a?[2J??b???");
}

TEST(Printable, BoundsTheLength) {
  auto p = printable(std::string(1900, 'h'), 255);
  EXPECT_EQ(p.size(), 255u);
  EXPECT_EQ(p.substr(252), "...");
  EXPECT_EQ(printable("abcdef", 2).size(), 2u);
}

TEST(LineFold, ShortLinesUnchanged) {
  std::string m = "Subject: x\r\n\r\nbody\r\n";
  EXPECT_EQ(fold_long_lines(m), m);
}

TEST(LineFold, LongLinesFoldAt998WithASpace) {
  std::string line(2500, 'y');
  auto out = fold_long_lines("A\r\n" + line + "\r\nB\r\n");
  std::size_t pos = 0, longest = 0;
  std::string unfolded;
  while (pos < out.size()) {
    auto end = out.find("\r\n", pos);
    ASSERT_NE(end, std::string::npos);
    longest = std::max(longest, end - pos);
    pos = end + 2;
  }
  EXPECT_EQ(longest, 998u);
  EXPECT_NE(out.find("\r\n y"), std::string::npos);
  // Nothing lost: the y's are all there.
  EXPECT_EQ(std::count(out.begin(), out.end(), 'y'), 2500);
}

TEST(LineFold, ChunkedEqualsWhole) {
  std::string m = std::string(1500, 'a') + "\r\n" + std::string(3000, 'b') + "\r\n";
  auto whole = fold_long_lines(m);
  for (std::size_t cut : {1u, 997u, 998u, 999u, 1501u, 1502u, 2500u}) {
    LineFolder f;
    std::string out;
    f.feed(std::string_view(m).substr(0, cut), out);
    f.feed(std::string_view(m).substr(cut), out);
    EXPECT_EQ(out, whole) << cut;
  }
}

// The folder a byte at a time, as it was before lines that fit went out in
// one append: the reference the fast path must agree with.
std::string fold_reference(std::string_view in, std::size_t limit) {
  std::string out;
  std::size_t column = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\n') {
      out += c;
      column = 0;
      continue;
    }
    bool ends_line = c == '\r' && i + 1 < in.size() && in[i + 1] == '\n';
    if (!ends_line && column >= limit) {
      out += "\r\n ";
      column = 1;
    }
    out += c;
    if (!ends_line) ++column;
  }
  return out;
}

TEST(LineFold, AgreesWithTheByteAtATimeFolderOnRandomMessages) {
  std::mt19937 rng(7);
  const char alphabet[] = {'a', 'b', '.', '\r', '\n'};
  for (int round = 0; round < 2000; ++round) {
    std::string m;
    auto n = rng() % 60;
    for (std::uint32_t i = 0; i < n; ++i) m += alphabet[rng() % sizeof alphabet];
    std::size_t limit = 2 + rng() % 8;
    LineFolder f(limit);
    std::string out;
    f.feed(m, out);
    ASSERT_EQ(out, fold_reference(m, limit)) << round;
  }
}

TEST(DataReaderNul, NulIsRefusedAfterTheEnd) {
  DataReader r(1 << 20, DataReader::no_line_limit);
  std::string out;
  std::string in("a\0b\r\n.\r\nNEXT", 12);
  auto used = r.feed(in, out);
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(r.state(), DataReader::State::nul_byte);
  EXPECT_EQ(in.substr(used), "NEXT");
}

TEST(DataReaderNul, LongLinesAcceptedWithoutALimit) {
  DataReader r(1 << 20, DataReader::no_line_limit);
  std::string out;
  r.feed(std::string(5000, 'x') + "\r\n.\r\n", out);
  EXPECT_EQ(r.state(), DataReader::State::done);
  EXPECT_EQ(out.size(), 5002u);
}

}  // namespace
}  // namespace relayscope::smtp
