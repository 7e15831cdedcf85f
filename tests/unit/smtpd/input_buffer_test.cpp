// The session's input framing: lines, the limit, and an overlong line
// skipped without losing what was pipelined after it.
#include "smtpd/input_buffer.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace relayscope::smtpd {
namespace {

using Line = InputBuffer::Line;

void put(InputBuffer& b, std::string_view s) {
  auto room = b.prepare(s.size());
  std::memcpy(room.data(), s.data(), s.size());
  b.commit(s.size());
}

TEST(InputBuffer, Lines) {
  InputBuffer b;
  std::string l;
  put(b, "EHLO a\r\nNOOP\nQU");
  EXPECT_EQ(b.take_line(100, l), Line::complete);
  EXPECT_EQ(l, "EHLO a");
  EXPECT_EQ(b.take_line(100, l), Line::complete);
  EXPECT_EQ(l, "NOOP");
  EXPECT_EQ(b.take_line(100, l), Line::need_more);
  put(b, "IT\r\n");
  EXPECT_EQ(b.take_line(100, l), Line::complete);
  EXPECT_EQ(l, "QUIT");
  EXPECT_TRUE(b.empty());
}

TEST(InputBuffer, OverlongLineKeepsWhatIsPipelinedBehindIt) {
  // Before: skip_rest_of_line threw away the whole buffer, NOOP and QUIT too.
  InputBuffer b;
  std::string l;
  put(b, std::string(50, 'x') + "\r\nNOOP\r\nQUIT\r\n");
  EXPECT_EQ(b.take_line(10, l), Line::too_long);
  EXPECT_EQ(b.take_line(10, l), Line::complete);
  EXPECT_EQ(l, "NOOP");
  EXPECT_EQ(b.take_line(10, l), Line::complete);
  EXPECT_EQ(l, "QUIT");
}

TEST(InputBuffer, OverlongLineArrivingInPiecesIsSkippedToItsEnd) {
  InputBuffer b;
  std::string l;
  put(b, std::string(20, 'x'));
  EXPECT_EQ(b.take_line(10, l), Line::too_long);
  EXPECT_LE(b.size(), 10u);  // never held
  put(b, std::string(30, 'y'));
  EXPECT_EQ(b.take_line(10, l), Line::need_more);
  EXPECT_EQ(b.size(), 0u);
  put(b, "yy\r\nRSET\r\n");
  EXPECT_EQ(b.take_line(10, l), Line::complete);
  EXPECT_EQ(l, "RSET");
}

TEST(InputBuffer, ClearForgetsEverything) {
  InputBuffer b;
  std::string l;
  put(b, "MAIL FROM:<a@b>\r\n");
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.take_line(100, l), Line::need_more);
}

TEST(InputBuffer, ReadsStartSmallGrowWhenTheyFillTheRoomAndRelaxGivesMemoryBack) {
  InputBuffer b;
  EXPECT_EQ(b.read_size(), InputBuffer::min_read);
  // A read that does not fill its room (a command) does not grow it.
  put(b, "NOOP\r\n");
  EXPECT_EQ(b.read_size(), InputBuffer::min_read);
  std::string l;
  ASSERT_EQ(b.take_line(100, l), Line::complete);
  EXPECT_LE(b.capacity(), 2 * InputBuffer::min_read);
  // Reads that fill all their room (a message arriving) double it, up to max_read.
  for (int i = 0; i < 10; ++i) {
    auto n = b.read_size();
    auto room = b.prepare(n);
    std::memset(room.data(), 'x', n);
    b.commit(n);
  }
  EXPECT_EQ(b.read_size(), InputBuffer::max_read);
  EXPECT_GE(b.capacity(), InputBuffer::max_read);
  // After the message, with a command pipelined behind it: small again,
  // the memory given back, and the command kept.
  b.consume(b.size());
  put(b, "QUIT\r\n");
  b.relax();
  EXPECT_EQ(b.read_size(), InputBuffer::min_read);
  EXPECT_LE(b.capacity(), 2 * InputBuffer::min_read);
  ASSERT_EQ(b.take_line(100, l), Line::complete);
  EXPECT_EQ(l, "QUIT");
}

}  // namespace
}  // namespace relayscope::smtpd
