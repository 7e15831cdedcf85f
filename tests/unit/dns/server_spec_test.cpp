// Parsing of DNS server specs "HOST:PORT" / "[V6]:PORT" (server_spec.hpp).
#include "dns/server_spec.hpp"

#include <gtest/gtest.h>

namespace relayscope::dns {
namespace {

TEST(ServerSpec, Ipv4WithPort) {
  auto s = parse_server_spec("127.0.0.1:5353");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->address.is_v4);
  EXPECT_EQ(s->port, 5353);
  EXPECT_EQ(s->to_string(), "127.0.0.1:5353");
}

TEST(ServerSpec, Ipv6InBrackets) {
  auto s = parse_server_spec("[::1]:5353");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(s->address.is_v4);
  EXPECT_EQ(s->port, 5353);
  EXPECT_EQ(s->to_string(), "[::1]:5353");
}

TEST(ServerSpec, PortDefaultsTo53) {
  EXPECT_EQ(parse_server_spec("127.0.0.2")->port, 53);
  EXPECT_EQ(parse_server_spec("[::1]")->port, 53);
}

TEST(ServerSpec, ClearErrors) {
  auto expect_error = [](const char* text, const char* words) {
    auto s = parse_server_spec(text);
    ASSERT_FALSE(s) << text;
    EXPECT_NE(s.error().message.find(words), std::string::npos)
        << text << " -> " << s.error().message;
  };
  expect_error("", "empty");
  expect_error("::1:53", "brackets");
  expect_error("[::1", "missing ']'");
  expect_error("[::1]53", "':PORT'");
  expect_error("[nothing]:53", "not an IP address");
  expect_error("dns.example:53", "not an IP address");
  expect_error("127.0.0.1:0", "port must be 1..65535");
  expect_error("127.0.0.1:65536", "port must be 1..65535");
  expect_error("127.0.0.1:", "port must be 1..65535");
  expect_error("127.0.0.1:53x", "port must be 1..65535");
  expect_error("127.0.0.1:-1", "port must be 1..65535");
}

TEST(ServerSpec, ListIsAllOrNothingAndNeverEmpty) {
  EXPECT_FALSE(parse_server_specs({}));
  EXPECT_FALSE(parse_server_specs({"127.0.0.1:53", "bad"}));
  auto l = parse_server_specs({"127.0.0.1:53", "[::1]:54"});
  ASSERT_TRUE(l);
  EXPECT_EQ(l->size(), 2u);
}

}  // namespace
}  // namespace relayscope::dns
