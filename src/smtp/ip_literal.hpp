// The address-literal grammar of RFC 5321 section 4.1.3 (IPv4 dotted quads,
// every IPv6 form including the IPv4-compatible ones) and canonical text for
// both (RFC 5952 for IPv6). Pure; stricter than inet_pton where 5321 is.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relayscope::smtp {

using Ipv4Bytes = std::array<std::uint8_t, 4>;
using Ipv6Bytes = std::array<std::uint8_t, 16>;

// IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT (0-255). Stricter
// than 5321: a leading zero ("010") is refused, since inet_aton reads it as
// octal and two readers of one address must never disagree.
std::optional<Ipv4Bytes> parse_ipv4(std::string_view text);

// IPv6-addr (the text after the "IPv6:" tag): IPv6-full / IPv6-comp /
// IPv6v4-full / IPv6v4-comp. As RFC 5321 says, "::" stands for at least two
// zero groups, so "1:2:3:4:5:6::7" is refused.
std::optional<Ipv6Bytes> parse_ipv6(std::string_view text);

std::string format_ipv4(const Ipv4Bytes& a);  // "192.0.2.1"
std::string format_ipv6(const Ipv6Bytes& a);  // RFC 5952: "2001:db8::1", "::ffff:192.0.2.1"

}  // namespace relayscope::smtp
