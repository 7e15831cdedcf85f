// The lab's DNS answers, pure: a query's bytes in, the response's bytes out
// (or none, for a name whose fault is "no answer"). The lookup itself works
// on names and types (lookup()), the wire format is ldns's; no socket here,
// so tests and the fuzz-style test drive it directly. Authoritative (AA) for
// the zone's origin, REFUSED outside it, FORMERR for what does not parse.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lab/zone.hpp"

namespace relayscope::lab {

namespace rcode {
inline constexpr int noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimpl = 4, refused = 5;
}

struct RrText {
  std::string owner;  // normalized
  std::uint16_t type = 0;
  std::string rdata;
};

struct Lookup {
  bool drop = false;          // send nothing
  bool authoritative = true;  // AA
  int rcode = rcode::noerror;
  std::vector<RrText> answers;    // CNAME chain first, then the records
  std::vector<RrText> authority;  // SOA on NXDOMAIN and NODATA
};

// Follows CNAMEs inside the zone (at most 8 links); qtype 255 (ANY) gives
// every record of the name.
Lookup lookup(const Zone& zone, const std::string& name, std::uint16_t qtype);

// UDP answers over 512 bytes (or the query's EDNS size, at most 1232) are
// sent truncated (TC, no records) so that the client retries over TCP.
std::optional<std::vector<std::uint8_t>> answer_query(const Zone& zone,
                                                      std::span<const std::uint8_t> query,
                                                      bool tcp);

}  // namespace relayscope::lab
