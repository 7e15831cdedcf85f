// Scanning manners (issue 12 item 6): the IANA special-purpose address ranges
// (RFC 6890's IPv4 and IPv6 tables, with multicast and the limited
// broadcast), which a survey never probes by default, as zmap does. A range
// is probed only when a --scope CIDR lies within it (tests and the lab:
// --scope 127.0.0.0/8); the DNS servers named with --dns are the user's
// choice and exempt. A scope that reaches beyond these ranges is the real
// Internet, where a survey must name itself (--helo, --mail-from, --rcpt-to).
// Pure.
#pragma once

#include <string>
#include <vector>

#include "common/cidr.hpp"

namespace relayscope::survey {

// The special-purpose ranges, IPv4 then IPv6.
const std::vector<Cidr>& special_purpose_ranges();

// The ranges excluded by default for this scope: all of them but those a
// scope CIDR lies within (a scope CIDR that holds a whole range, such as
// 0.0.0.0/0, does not lift it: it asks for everything, not for that range).
CidrSet default_exclusions(const CidrSet& scope);

// Whether the scope reaches addresses outside every special-purpose range:
// an empty scope (any), or a scope CIDR not within one of them.
bool reaches_beyond_special_purpose(const CidrSet& scope);

// Whether `inner` lies wholly within `outer` (same family).
bool cidr_within(const Cidr& inner, const Cidr& outer);

// `ranges` less the addresses in `spared` (the --dns servers): each range
// holding one is split into the blocks around it (at most one per bit of
// the prefix), so that a plain exclusion list can carry it.
std::vector<Cidr> without_addresses(const std::vector<Cidr>& ranges,
                                    const std::vector<IpAddress>& spared);

}  // namespace relayscope::survey
