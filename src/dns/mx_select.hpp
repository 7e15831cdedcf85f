// MX selection, pure (DESIGN.md "Pipeline of the survey", step 2): the order
// in which a domain's MX hosts are tried, RFC 7505 null MX detection, and the
// choice among a host's addresses. Reproducible: the same seed and the same
// records give the same order on every machine (own RNG, not <random>'s
// implementation-defined distributions), whatever order the server sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relayscope::dns {

struct MxRecord {
  int preference = 0;
  std::string host;  // exchange, lower case, no trailing dot; "" is the root (".")
  friend bool operator==(const MxRecord&, const MxRecord&) = default;
};

// RFC 7505: the domain's only MX targets are the root ("."), i.e. it accepts
// no mail. A null MX mixed with real MX records is not null: the root
// targets are dropped by order_mx and the others used.
bool is_null_mx(const std::vector<MxRecord>& records);

// Hosts to try, lowest preference first; hosts of equal preference in an
// order shuffled by a generator seeded with (seed, domain). Root targets and
// duplicate hosts are dropped (a duplicate keeps its lowest preference).
std::vector<MxRecord> order_mx(std::vector<MxRecord> records, std::string_view domain,
                               std::uint64_t seed);

// One of a host's addresses, chosen by (seed, host) among the sorted set, so
// that round-robin answer order does not change the result. "" if empty.
std::string choose_address(std::vector<std::string> addresses, std::string_view host,
                           std::uint64_t seed);

// An MX exchange that is an IP literal ("10.0.0.1" or "[10.0.0.1]") is
// invalid (RFC 5321 5.1 / RFC 1035: the target is a domain name).
bool is_ip_literal_target(std::string_view host);

// Lower case, without the trailing dot ("MX1.Example." -> "mx1.example").
std::string normalize_name(std::string_view name);

}  // namespace relayscope::dns
