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

}  // namespace
}  // namespace relayscope::smtpd
