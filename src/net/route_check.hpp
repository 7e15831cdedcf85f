// Whether this machine has a route to an address, asked of the kernel
// without sending anything (a UDP socket's connect() only looks the route
// up). The survey drops IPv6 addresses it cannot reach before the sample, so
// that a machine without IPv6 never records them as CONNECT failures.
#pragma once

#include <string>

namespace relayscope::net {

// True when the kernel has a route to `address` (an IPv4 or IPv6 literal);
// false when it has none (unreachable network or host, no source address,
// the family not supported here: IPv6 disabled), or when `address` is no
// address. Other errors (no descriptor) answer true: not a route's fault.
// `why` gets the system's words.
bool has_route(const std::string& address, std::string* why = nullptr);

}  // namespace relayscope::net
