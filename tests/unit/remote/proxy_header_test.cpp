// The PROXY protocol parser against HAProxy's spec: v1 TCP4/TCP6/UNKNOWN, v2
// PROXY/LOCAL, bounds, and "need more bytes" at every split of a header.
#include "smtp/proxy_header.hpp"

#include <gtest/gtest.h>

#include <string>

namespace relayscope::smtp {
namespace {

const std::string sig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string& body) {
  std::string h = sig;
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xff);
  return h + body;
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}

TEST(ProxyHeader, V1Tcp4KeepsWhatFollows) {
  std::string h = "PROXY TCP4 192.0.2.7 127.0.0.1 56324 25\r\n";
  auto p = parse_proxy_header(h + "EHLO x\r\n");
  ASSERT_EQ(p.status, ProxyStatus::complete) << p.error;
  EXPECT_EQ(p.header.version, 1);
  EXPECT_TRUE(p.header.proxied);
  EXPECT_TRUE(p.header.has_addresses);
  EXPECT_EQ(p.header.source.to_string(), "192.0.2.7");
  EXPECT_EQ(p.header.destination.to_string(), "127.0.0.1");
  EXPECT_EQ(p.header.source_port, 56324);
  EXPECT_EQ(p.header.destination_port, 25);
  EXPECT_EQ(p.header.length, h.size());
}

TEST(ProxyHeader, V1Tcp6AndUnknown) {
  auto p = parse_proxy_header("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n");
  ASSERT_EQ(p.status, ProxyStatus::complete) << p.error;
  EXPECT_EQ(p.header.source.to_string(), "2001:db8::1");
  EXPECT_EQ(p.header.destination_port, 65535);
  auto u = parse_proxy_header("PROXY UNKNOWN ffff::1 whatever\r\n");
  ASSERT_EQ(u.status, ProxyStatus::complete);
  EXPECT_FALSE(u.header.has_addresses);
  auto bare = parse_proxy_header("PROXY UNKNOWN\r\n");
  EXPECT_EQ(bare.status, ProxyStatus::complete);
}

TEST(ProxyHeader, V1Invalid) {
  for (const char* bad : {
           "PROXY TCP4 192.0.2.7 127.0.0.1 56324\r\n",     // 5 fields
           "PROXY TCP4 2001:db8::1 127.0.0.1 1 2\r\n",     // family mismatch
           "PROXY TCP6 192.0.2.7 ::1 1 2\r\n",             // family mismatch
           "PROXY TCP4 192.0.2.7 127.0.0.1 65536 25\r\n",  // port range
           "PROXY TCP4 192.0.2.7 127.0.0.1 025 25\r\n",    // leading zero
           "PROXY TCP4 192.0.2.7  127.0.0.1 1 25\r\n",     // double space
           "PROXY UDP4 192.0.2.7 127.0.0.1 1 25\r\n",      // protocol
           "PROXY TCP4 192.0.2.300 127.0.0.1 1 25\r\n",    // address
           "PROXY TCP4 192.0.2.7 127.0.0.1 1 25\n",        // bare LF
           "EHLO client.example\r\n",                      // no header at all
       }) {
    EXPECT_EQ(parse_proxy_header(bad).status, ProxyStatus::invalid) << bad;
  }
  // Too long without CRLF: the spec's 107 bytes.
  std::string longer = "PROXY UNKNOWN " + std::string(100, 'a');
  EXPECT_EQ(parse_proxy_header(longer).status, ProxyStatus::invalid);
  EXPECT_EQ(parse_proxy_header(longer.substr(0, 100)).status, ProxyStatus::need_more);
  EXPECT_EQ(parse_proxy_header(longer + "\r\n").status, ProxyStatus::invalid);
}

TEST(ProxyHeader, V2Tcp4AndTcp6) {
  auto body4 = bytes({192, 0, 2, 7, 127, 0, 0, 1, 0xdc, 0x04, 0, 25});
  auto h = v2(0x21, 0x11, body4);
  auto p = parse_proxy_header(h + "EHLO");
  ASSERT_EQ(p.status, ProxyStatus::complete) << p.error;
  EXPECT_EQ(p.header.version, 2);
  EXPECT_TRUE(p.header.proxied);
  EXPECT_EQ(p.header.source.to_string(), "192.0.2.7");
  EXPECT_TRUE(p.header.source.is_v4);
  EXPECT_EQ(p.header.source_port, 56324);
  EXPECT_EQ(p.header.destination_port, 25);
  EXPECT_EQ(p.header.length, 28u);

  std::string body6(36, '\0');
  body6[0] = 0x20, body6[1] = 0x01, body6[2] = 0x0d, body6[3] = static_cast<char>(0xb8);
  body6[15] = 1;
  body6[31] = 1;  // ::1
  body6[33] = 7;
  body6[35] = 25;
  auto p6 = parse_proxy_header(v2(0x21, 0x21, body6));
  ASSERT_EQ(p6.status, ProxyStatus::complete) << p6.error;
  EXPECT_EQ(p6.header.source.to_string(), "2001:db8::1");
  EXPECT_EQ(p6.header.destination.to_string(), "::1");
  EXPECT_EQ(p6.header.source_port, 7);
}

TEST(ProxyHeader, V2TlvsAreSkipped) {
  auto body = bytes({10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2, 0x04, 0x00, 0x02, 'h', 'i'});
  auto p = parse_proxy_header(v2(0x21, 0x11, body) + "X");
  ASSERT_EQ(p.status, ProxyStatus::complete);
  EXPECT_EQ(p.header.length, 16u + body.size());
  EXPECT_EQ(p.header.source.to_string(), "10.0.0.1");
}

TEST(ProxyHeader, V2LocalIsTheProxyItself) {
  auto p = parse_proxy_header(v2(0x20, 0x00, ""));
  ASSERT_EQ(p.status, ProxyStatus::complete);
  EXPECT_FALSE(p.header.proxied);
  EXPECT_FALSE(p.header.has_addresses);
  EXPECT_EQ(p.header.length, 16u);
  // LOCAL with addresses: they are ignored.
  auto q = parse_proxy_header(v2(0x20, 0x11, std::string(12, '\1')));
  ASSERT_EQ(q.status, ProxyStatus::complete);
  EXPECT_FALSE(q.header.has_addresses);
  // PROXY over AF_UNSPEC or a unix socket: no addresses.
  auto u = parse_proxy_header(v2(0x21, 0x00, ""));
  ASSERT_EQ(u.status, ProxyStatus::complete);
  EXPECT_TRUE(u.header.proxied);
  EXPECT_FALSE(u.header.has_addresses);
  EXPECT_FALSE(parse_proxy_header(v2(0x21, 0x31, std::string(216, 'x'))).header.has_addresses);
}

TEST(ProxyHeader, V2Invalid) {
  EXPECT_EQ(parse_proxy_header(v2(0x11, 0x11, std::string(12, 0))).status, ProxyStatus::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x22, 0x11, std::string(12, 0))).status, ProxyStatus::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x41, std::string(12, 0))).status, ProxyStatus::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x13, std::string(12, 0))).status, ProxyStatus::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, std::string(11, 0))).status, ProxyStatus::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x21, std::string(35, 0))).status, ProxyStatus::invalid);
  // The length bound is checked from the first 16 bytes: no waiting for 64 KiB.
  std::string huge = sig + bytes({0x21, 0x11, 0xff, 0xff});
  EXPECT_EQ(parse_proxy_header(huge).status, ProxyStatus::invalid);
}

TEST(ProxyHeader, EveryPrefixNeedsMore) {
  auto v1 = std::string("PROXY TCP4 192.0.2.7 127.0.0.1 56324 25\r\n");
  auto v2h = v2(0x21, 0x11, bytes({192, 0, 2, 7, 127, 0, 0, 1, 0xdc, 0x04, 0, 25}));
  for (const auto& whole : {v1, v2h}) {
    for (std::size_t n = 0; n < whole.size(); ++n) {
      EXPECT_EQ(parse_proxy_header(whole.substr(0, n)).status, ProxyStatus::need_more)
          << n << " bytes of " << whole.size();
    }
    EXPECT_EQ(parse_proxy_header(whole).status, ProxyStatus::complete);
  }
  // A prefix that can no longer become either header is invalid at once.
  EXPECT_EQ(parse_proxy_header("PROXX").status, ProxyStatus::invalid);
  EXPECT_EQ(parse_proxy_header(std::string("\r\n\r\n\0\r\nQ", 8) + "X").status,
            ProxyStatus::invalid);
}

}  // namespace
}  // namespace relayscope::smtp
