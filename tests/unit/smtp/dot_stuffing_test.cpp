// Sending side: line endings normalised, leading dots doubled, end marker.
#include "smtp/dot_stuffing.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace relayscope::smtp
