// has_route: the kernel's route lookup, nothing sent.
#include "net/route_check.hpp"

#include <gtest/gtest.h>

namespace relayscope::net {
namespace {

TEST(RouteCheck, LoopbackIsRoutedAndNonsenseIsNot) {
  EXPECT_TRUE(has_route("127.0.0.1"));
  std::string why;
  EXPECT_FALSE(has_route("not-an-address", &why));
  EXPECT_EQ(why, "not an IP address");
}

// An address with no route at all is tested in a network namespace of its
// own (tests/integration/test_survey_ipv6.py): this machine may have any.

}  // namespace
}  // namespace relayscope::net
