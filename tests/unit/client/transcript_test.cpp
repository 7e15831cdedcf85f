// The compact transcript: lines read back as added, long texts cut, and a
// cost per line near its text's size (no allocation, no 48 bytes, per line).
#include "client/transcript.hpp"

#include <gtest/gtest.h>

#include <string>

namespace relayscope::client {
namespace {

TEST(Transcript, ReadsBackEachLineAsAdded) {
  Transcript t;
  EXPECT_TRUE(t.empty());
  t.add(5, '*', "connect 127.0.0.1:25");
  t.add(1200, '<', "220 mx.test ESMTP");
  t.add(1300, '>', "");
  t.add(1400, '>', "QUIT");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].t_us, 5);
  EXPECT_EQ(t[0].direction, '*');
  EXPECT_EQ(t[0].text, "connect 127.0.0.1:25");
  EXPECT_EQ(t[1].text, "220 mx.test ESMTP");
  EXPECT_EQ(t[2].text, "");
  EXPECT_EQ(t[3].direction, '>');
  EXPECT_EQ(t[3].text, "QUIT");
  std::string joined;
  for (auto e : t) joined += std::string(1, e.direction) + std::string(e.text) + "|";
  EXPECT_EQ(joined, "*connect 127.0.0.1:25|<220 mx.test ESMTP|>|>QUIT|");
}

TEST(Transcript, ATextPastTheLimitIsCut) {
  Transcript t;
  t.add(0, '<', std::string(Transcript::max_text + 10, 'z'));
  EXPECT_EQ(t[0].text.size(), Transcript::max_text);
}

TEST(Transcript, CostsLittleMoreThanItsText) {
  // A --variants all probe: some 170 lines of 50 bytes.
  Transcript t;
  const std::string line(50, 'r');
  for (int i = 0; i < 170; ++i) t.add(i, '<', line);
  const std::size_t text = 170 * 50;
  EXPECT_GE(t.capacity_bytes(), text + 170 * 16);
  // Growth by half: at most half again of what it holds (a vector of
  // strings took 48 bytes a line plus an allocation for each).
  EXPECT_LE(t.capacity_bytes(), (text + 170 * 16) * 3 / 2 + 512);
}

}  // namespace
}  // namespace relayscope::client
