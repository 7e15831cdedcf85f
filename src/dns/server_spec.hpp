// DNS server specs as the command line gives them: "127.0.0.1:5353",
// "[::1]:5353"; a missing port means 53. Only IP literals: the resolver's
// own servers cannot be looked up by name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.hpp"
#include "common/expected.hpp"

namespace relayscope::dns {

struct ServerSpec {
  IpAddress address;
  std::uint16_t port = 53;
  // "127.0.0.1:5353" or "[::1]:5353".
  std::string to_string() const;
};

Expected<ServerSpec> parse_server_spec(std::string_view text);
// All or nothing; an empty list is an error (the caller always names servers).
Expected<std::vector<ServerSpec>> parse_server_specs(const std::vector<std::string>& texts);

}  // namespace relayscope::dns
