// Writes listings as an rbldnsd ip4set zone or a BIND zone file, with the
// RFC 5782 test entries: 127.0.0.2 listed, 127.0.0.1 never. Pure. An ip4set
// holds IPv4 only: IPv6 listings go to the BIND zone (RFC 5782 2.4 nibbles)
// and are counted in the ip4set's header, never silently lost.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "dnsbl/listing.hpp"

namespace relayscope::dnsbl {

struct ZoneOptions {
  std::string zone = "dnsbl.relayscope.test";
  std::string answer = "127.0.0.2";  // the A record of a listed address
  int ttl = 300;
  std::string generated_at;  // shown in comments and the SOA serial's source
  long serial = 1;
  // The zone's name server. A BIND zone names it in NS and, when it lies
  // inside the zone, needs its address (glue), or named refuses the zone.
  std::string ns_name;                   // empty: ns.<zone>
  std::string ns_address = "127.0.0.1";  // where the zone is served (loopback by default)
};

std::string txt_reason(const Listing& l);
// How many of `listings` an ip4set cannot hold (IPv6).
std::size_t ipv6_count(const std::vector<Listing>& listings);
std::string write_rbldnsd(const std::vector<Listing>& listings, const ZoneOptions& options);
std::string write_bind(const std::vector<Listing>& listings, const ZoneOptions& options);

// The DNSBL query name of an address (RFC 5782 2.1 / 2.4): reversed octets or
// nibbles, without the zone.
std::string reversed_name(const std::string& ip);

}  // namespace relayscope::dnsbl
