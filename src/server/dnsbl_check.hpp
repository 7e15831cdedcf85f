// The optional DNSBL check of a client's address at connect (RFC 5782): the
// address's octets reversed (IPv6: nibbles) under each zone, an A query on
// the configured DNS servers; an answer in 127.0.0.0/8 means listed, and the
// zone's TXT record is the reason given in the 554 5.7.1. A failed lookup
// (timeout, SERVFAIL) lets the client in: a DNSBL outage must not stop mail.
#pragma once

#include <asio.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/cidr.hpp"
#include "smtp/reply.hpp"

namespace relayscope::dns {
class Resolver;
}

namespace relayscope::server {

// "2.0.0.127.zone" for 127.0.0.2; nibbles for IPv6 (RFC 5782 2.4).
std::string dnsbl_query_name(const IpAddress& address, const std::string& zone);

class DnsblCheck {
 public:
  DnsblCheck(std::vector<std::string> zones, dns::Resolver& resolver)
      : zones_(std::move(zones)), resolver_(resolver) {}
  // The refusal when the address is listed in any zone.
  asio::awaitable<std::optional<smtp::Reply>> check(IpAddress address);

 private:
  std::vector<std::string> zones_;
  dns::Resolver& resolver_;
};

}  // namespace relayscope::server
