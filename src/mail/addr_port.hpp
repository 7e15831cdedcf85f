// The one ADDR:PORT parser for every option and key that names an endpoint
// by address ("127.0.0.1:25", "[::1]:2525"; an IPv6 address goes in
// brackets). Errors are in words without the option's name: callers prefix
// it ("--listen: ...", "FILE:LINE: ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/cidr.hpp"
#include "common/expected.hpp"

namespace relayscope::mail {

struct AddrPort {
  IpAddress address;
  std::optional<std::uint16_t> port;  // unset only when the port may be left out
  std::string to_string() const;      // "127.0.0.1:25", "[::1]:25"
};

struct AddrPortRules {
  bool port_optional = false;  // "ADDR" and "[V6]" alone are accepted
  bool port_zero = false;      // port 0 (any free port) is accepted
};

Expected<AddrPort> parse_addr_port(std::string_view text, AddrPortRules rules = {});

}  // namespace relayscope::mail
