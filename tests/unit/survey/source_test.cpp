// --source (repeatable): which of our addresses a probe binds to.
#include <gtest/gtest.h>

#include "survey/probe.hpp"

namespace relayscope::survey {
namespace {

asio::ip::address addr(const char* text) {
  return asio::ip::make_address(text);
}

TEST(Source, HostsTakeTurnsOverTheAddressesOfThePeersFamily) {
  ProbeOptions o;
  o.sources = {addr("127.0.0.2"), addr("2001:db8::2"), addr("127.0.0.3")};
  const auto v4 = addr("127.0.0.25");
  const auto v6 = addr("2001:db8::25");
  EXPECT_EQ(source_for(o, 1, v4), addr("127.0.0.3"));
  EXPECT_EQ(source_for(o, 2, v4), addr("127.0.0.2"));
  EXPECT_EQ(source_for(o, 3, v4), addr("127.0.0.3"));
  // One host always comes from the same address (reconnections, retries).
  EXPECT_EQ(source_for(o, 2, v4), source_for(o, 2, addr("127.0.0.99")));
  EXPECT_EQ(source_for(o, 1, v6), addr("2001:db8::2"));
  EXPECT_EQ(source_for(o, 2, v6), addr("2001:db8::2"));
}

TEST(Source, NoAddressOfTheFamilyLeavesTheChoiceToTheKernel) {
  ProbeOptions o;
  o.sources = {addr("127.0.0.2")};
  EXPECT_FALSE(source_for(o, 1, addr("2001:db8::25")));
  ProbeOptions none;
  EXPECT_FALSE(source_for(none, 1, addr("127.0.0.25")));
  none.client.local_address = addr("127.0.0.7");  // one address set directly
  EXPECT_EQ(source_for(none, 5, addr("127.0.0.25")), addr("127.0.0.7"));
  EXPECT_FALSE(source_for(none, 5, addr("::1")));
}

}  // namespace
}  // namespace relayscope::survey
