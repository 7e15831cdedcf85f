// The one JSON-list column codec that both backends use.
#include "store/json_list.hpp"

#include <gtest/gtest.h>

namespace relayscope::store {
namespace {

TEST(JsonList, EmptyListIsAnEmptyColumn) {
  EXPECT_EQ(to_json_list({}), "");
  EXPECT_TRUE(from_json_list("").empty());
}

TEST(JsonList, RoundTripsAddressesWithQuotesAndNonAscii) {
  const std::vector<std::string> v{"a@example.org", "\"odd\\name\"@x", "jos\xc3\xa9@b.test"};
  EXPECT_EQ(from_json_list(to_json_list(v)), v);
}

TEST(JsonList, MalformedOrNonArrayReadsAsNoStrings) {
  EXPECT_TRUE(from_json_list("[\"a\"").empty());
  EXPECT_TRUE(from_json_list("{\"a\":1}").empty());
  EXPECT_EQ(from_json_list("[\"a\", 3, null, \"b\"]"), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace relayscope::store
