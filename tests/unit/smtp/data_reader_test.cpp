// Receiving side of DATA: end marker, un-stuffing, the smuggling sequences,
// limits, and feeding in every possible split (byte by byte and every 2-split).
#include "smtp/data_reader.hpp"

#include <gtest/gtest.h>

#include "smtp/dot_stuffing.hpp"

namespace relayscope::smtp {
namespace {

using State = DataReader::State;

struct Result {
  State state;
  bool finished;
  std::size_t consumed;
  std::string message;
};

Result read_all(std::string_view input, std::size_t max_size = 1 << 20,
                std::size_t max_line = 1002) {
  DataReader r(max_size, max_line);
  std::string out;
  std::size_t used = r.feed(input, out);
  return {r.state(), r.finished(), used, out};
}

// Feeds the input in the given pieces, stopping as the reader does.
Result read_pieces(std::string_view input, const std::vector<std::size_t>& cuts,
                   std::size_t max_size = 1 << 20, std::size_t max_line = 1002) {
  DataReader r(max_size, max_line);
  std::string out;
  std::size_t pos = 0;
  std::size_t consumed = 0;
  std::vector<std::size_t> bounds = cuts;
  bounds.push_back(input.size());
  for (std::size_t b : bounds) {
    if (b < pos) continue;
    auto chunk = input.substr(pos, b - pos);
    std::size_t used = r.feed(chunk, out);
    consumed += used;
    EXPECT_LE(used, chunk.size());
    if (r.finished()) {
      EXPECT_EQ(r.feed("more", out), 0u);  // finished: nothing more is taken
      break;
    }
    EXPECT_EQ(used, chunk.size());  // not finished: everything is taken
    pos = b;
  }
  return {r.state(), r.finished(), consumed, out};
}

void expect_same(const Result& a, const Result& b) {
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.finished, b.finished);
  EXPECT_EQ(a.consumed, b.consumed);
  if (a.state == State::done) {
    EXPECT_EQ(a.message, b.message);
  }
}

TEST(DataReader, SimpleMessage) {
  auto r = read_all("Subject: x\r\n\r\nbody\r\n.\r\n");
  EXPECT_EQ(r.state, State::done);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.message, "Subject: x\r\n\r\nbody\r\n");
}

TEST(DataReader, EmptyMessage) {
  auto r = read_all(".\r\n");
  EXPECT_EQ(r.state, State::done);
  EXPECT_EQ(r.consumed, 3u);
  EXPECT_EQ(r.message, "");
}

TEST(DataReader, BytesAfterTheMarkerAreNotConsumed) {
  std::string input = "a\r\n.\r\nQUIT\r\n";
  auto r = read_all(input);
  EXPECT_EQ(r.state, State::done);
  EXPECT_EQ(r.consumed, input.find("QUIT"));
  EXPECT_EQ(r.message, "a\r\n");
}

TEST(DataReader, Unstuffing) {
  auto r = read_all("..\r\n...x\r\n.y\r\na.b\r\n.\r\n");
  EXPECT_EQ(r.state, State::done);
  EXPECT_EQ(r.message, ".\r\n..x\r\ny\r\na.b\r\n");
}

TEST(DataReader, NotFinishedWithoutMarker) {
  for (const char* partial : {"", "a", "a\r\n", "a\r\n.", "a\r\n.\r", ".", ".\r"}) {
    auto r = read_all(partial);
    EXPECT_FALSE(r.finished) << partial;
    EXPECT_EQ(r.state, State::reading) << partial;
  }
}

TEST(DataReader, SmugglingSequencesNeverEndTheMessage) {
  // Each holds a spelling some MTA once took for the end of data, followed by
  // a smuggled command; only the final CRLF.CRLF ends the message, and the
  // message is refused.
  for (const char* fake :
       {"\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\n.\r", "\r\n.\r", "\r\n.\r\r\n"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(fake)));
    std::string input = std::string("hello") + fake + "MAIL FROM:<x@y>\r\n.\r\nRSET\r\n";
    auto r = read_all(input);
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(r.state, State::bare_line_ending);
    EXPECT_EQ(r.consumed, input.find("RSET"));
  }
}

TEST(DataReader, BareLineEndingsAnywhere) {
  for (const char* msg : {"a\nb\r\n.\r\n", "a\rb\r\n.\r\n", "\n.\r\n.\r\n", "\r\n\r.\r\n.\r\n",
                          "a\r\r\n.\r\n", ".\n.\r\n.\r\n", ".\rx\r\n.\r\n", "..\n\r\n.\r\n"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(msg)));
    auto r = read_all(msg);
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(r.state, State::bare_line_ending);
    EXPECT_EQ(r.consumed, std::string_view(msg).size());
  }
}

TEST(DataReader, SizeLimitOnUnstuffedBytes) {
  // "..\r\n" is 3 bytes un-stuffed.
  EXPECT_EQ(read_all("..\r\n.\r\n", 3).state, State::done);
  EXPECT_EQ(read_all("..\r\n.\r\n", 2).state, State::too_big);
  EXPECT_EQ(read_all("abc\r\n.\r\n", 5).state, State::done);
  EXPECT_EQ(read_all("abc\r\n.\r\n", 4).state, State::too_big);
  EXPECT_EQ(read_all(".\r\n", 0).state, State::done);
  // After the violation it keeps reading to the real end.
  std::string big = std::string(100, 'x') + "\r\n" + std::string(100, 'y') + "\r\n.\r\nNEXT";
  auto r = read_all(big, 50);
  EXPECT_EQ(r.state, State::too_big);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.consumed, big.size() - 4);
  EXPECT_LE(r.message.size(), 50u);
}

TEST(DataReader, LineLengthCountsTheRawLineWithCrlf) {
  std::string ok = std::string(8, 'x') + "\r\n.\r\n";  // 10 bytes with CRLF
  EXPECT_EQ(read_all(ok, 1000, 10).state, State::done);
  std::string too_long = std::string(9, 'x') + "\r\n.\r\n";
  auto r = read_all(too_long, 1000, 10);
  EXPECT_EQ(r.state, State::line_too_long);
  EXPECT_TRUE(r.finished);
  // The stuffing dot counts: it is on the wire.
  EXPECT_EQ(read_all("." + std::string(7, 'x') + "\r\n.\r\n", 1000, 10).state, State::done);
  EXPECT_EQ(read_all("." + std::string(8, 'x') + "\r\n.\r\n", 1000, 10).state,
            State::line_too_long);
  // The default allows RFC 5321's 1000 octets (and 2 more).
  EXPECT_EQ(read_all(std::string(1000, 'x') + "\r\n.\r\n").state, State::done);
  EXPECT_EQ(read_all(std::string(1001, 'x') + "\r\n.\r\n").state, State::line_too_long);
}

TEST(DataReader, FirstViolationWins) {
  // Size is crossed at byte 11, the line length at byte 1003.
  auto r = read_all(std::string(2000, 'x') + "\n\r\n.\r\n", 10);
  EXPECT_EQ(r.state, State::too_big);
  auto q = read_all(std::string(2000, 'x') + "\n\r\n.\r\n", 1500);
  EXPECT_EQ(q.state, State::line_too_long);
  auto s = read_all("a\nb" + std::string(2000, 'x') + "\r\n.\r\n");
  EXPECT_EQ(s.state, State::bare_line_ending);
}

const char* const split_inputs[] = {
    "Subject: x\r\n\r\nbody\r\n..dot\r\n.\r\nQUIT\r\n",
    ".\r\nNEXT",
    "a\n.\nb\r.\rc\r\n.\nd\n.\r\n\r\n.\r\nRSET\r\n",
    "..\r\n.\r\n",
    "\r\n.\r\r\n.\r\n.\r\n",
    "x\r\n.\r",
};

TEST(DataReader, ByteByByteEqualsAllAtOnce) {
  for (const char* in : split_inputs) {
    std::string_view input(in);
    SCOPED_TRACE(testing::PrintToString(std::string(input)));
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
    expect_same(read_all(input), read_pieces(input, cuts));
  }
}

TEST(DataReader, EveryTwoSplitEqualsAllAtOnce) {
  for (const char* in : split_inputs) {
    std::string_view input(in);
    auto whole = read_all(input);
    for (std::size_t a = 0; a <= input.size(); ++a) {
      SCOPED_TRACE(testing::PrintToString(std::string(input)) + " split at " + std::to_string(a));
      expect_same(whole, read_pieces(input, {a}));
    }
  }
}

TEST(DataReader, EveryThreeSplitEqualsAllAtOnce) {
  std::string_view input = "ab\r\n..\r\n.\r\nX";
  auto whole = read_all(input);
  for (std::size_t a = 0; a <= input.size(); ++a) {
    for (std::size_t b = a; b <= input.size(); ++b) {
      SCOPED_TRACE(std::to_string(a) + "," + std::to_string(b));
      expect_same(whole, read_pieces(input, {a, b}));
    }
  }
}

TEST(DataReader, RoundTripWithDotStuff) {
  for (const char* msg : {"", "a", "a\r\n", ".", ".\r\n", "..\r\n.\r\n", "x\r\n.\r\ny", "\r\n\r\n",
                          "a\r\n.\r\nQUIT\r\n"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(msg)));
    std::string wire = dot_stuff(msg);
    auto r = read_all(wire + "NEXT");
    EXPECT_EQ(r.state, State::done);
    EXPECT_EQ(r.consumed, wire.size());
    std::string expected = msg;
    if (!expected.empty() && expected.back() != '\n') expected += "\r\n";
    EXPECT_EQ(r.message, expected);
  }
}

TEST(DataReader, LargeMessageFastPath) {
  std::string body;
  for (int i = 0; i < 10000; ++i) body += "line " + std::to_string(i) + " of the body\r\n";
  auto r = read_all(dot_stuff(body), 1 << 24);
  EXPECT_EQ(r.state, State::done);
  EXPECT_EQ(r.message, body);
}

}  // namespace
}  // namespace relayscope::smtp
