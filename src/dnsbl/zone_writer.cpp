#include "dnsbl/zone_writer.hpp"

#include <fmt/format.h>

#include <cstdint>

#include "common/cidr.hpp"

namespace relayscope::dnsbl {

std::string txt_reason(const Listing& l) {
  return fmt::format("Open relay: {} a relayscope test message on {} (test: {})",
                     l.evidence == Evidence::delivered ? "delivered" : "accepted for relaying",
                     l.date, l.variant);
}

namespace {

// RFC 5782 2.4: the 32 nibbles of an IPv6 address, least significant first.
std::string nibbles(const IpAddress& ip) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 15; i >= 0; --i) {
    out += hex[ip.bytes[i] & 0xf];
    out += '.';
    out += hex[ip.bytes[i] >> 4];
    if (i > 0) out += '.';
  }
  return out;
}

// RFC 5782 5: an IPv6 DNSxL lists ::FFFF:7F00:2 and never ::FFFF:7F00:1 (the
// IPv4-mapped test addresses, in nibbles: IpAddress holds them as IPv4).
std::string mapped_test_name(std::uint8_t last) {
  auto ip = *IpAddress::parse("127.0.0.1");
  ip.bytes[15] = last;
  return nibbles(ip);
}

}  // namespace

std::string reversed_name(const std::string& text) {
  auto ip = IpAddress::parse(text);
  if (!ip) return {};
  if (!ip->is_v4) return nibbles(*ip);
  std::string out;
  for (int i = 15; i >= 12; --i) {
    out += std::to_string(ip->bytes[i]);
    if (i > 12) out += '.';
  }
  return out;
}

std::size_t ipv6_count(const std::vector<Listing>& listings) {
  std::size_t n = 0;
  for (const auto& l : listings) {
    auto ip = IpAddress::parse(l.ip);
    if (ip && !ip->is_v4) ++n;
  }
  return n;
}

std::string write_rbldnsd(const std::vector<Listing>& listings, const ZoneOptions& o) {
  std::string z;
  z += fmt::format("# relayscope DNSBL of open relays ({} listed), generated {}\n", listings.size(),
                   o.generated_at);
  if (auto v6 = ipv6_count(listings); v6 > 0) {
    z += fmt::format("# {} IPv6 listings are not in this ip4set: export --format bind for them\n",
                     v6);
  }
  z += "# rbldnsd ip4set: serve with  rbldnsd -b ADDR/PORT " + o.zone + ":ip4set:FILE\n";
  z += fmt::format("$TTL {}\n", o.ttl);
  z += fmt::format(":{}:Listed by relayscope as an open relay\n", o.answer);
  z += "# RFC 5782 test entries: 127.0.0.2 is listed, 127.0.0.1 never is.\n";
  z += fmt::format("127.0.0.2 :{}:RFC 5782 test entry\n", o.answer);
  z += "!127.0.0.1\n";
  for (const auto& l : listings) {
    auto ip = IpAddress::parse(l.ip);
    if (!ip || !ip->is_v4 || l.ip == "127.0.0.1" || l.ip == "127.0.0.2") continue;
    z += fmt::format("{} :{}:{}\n", l.ip, o.answer, txt_reason(l));
  }
  return z;
}

std::string write_bind(const std::vector<Listing>& listings, const ZoneOptions& o) {
  std::string z;
  z += fmt::format("; relayscope DNSBL of open relays ({} listed), generated {}\n", listings.size(),
                   o.generated_at);
  z += fmt::format("$ORIGIN {}.\n$TTL {}\n", o.zone, o.ttl);
  std::string ns = o.ns_name.empty() ? "ns." + o.zone : o.ns_name;
  z += fmt::format("@ IN SOA {0}. hostmaster.{1}. ( {2} 3600 600 86400 {3} )\n", ns, o.zone,
                   o.serial, o.ttl);
  z += fmt::format("@ IN NS {}.\n", ns);
  if (ns.ends_with("." + o.zone) || ns == o.zone) {
    auto ns_ip = IpAddress::parse(o.ns_address);
    z += fmt::format("{}. IN {} {}\n", ns, ns_ip && !ns_ip->is_v4 ? "AAAA" : "A", o.ns_address);
  }
  z += "; RFC 5782 test entries: 127.0.0.2 is listed, 127.0.0.1 never is.\n";
  z += fmt::format("2.0.0.127 IN A {}\n", o.answer);
  z += "2.0.0.127 IN TXT \"RFC 5782 test entry\"\n";
  if (ipv6_count(listings) > 0) {
    // A zone that lists IPv6 addresses answers the IPv6 test entry too
    // (RFC 5782 5: ::FFFF:7F00:2 listed, ::FFFF:7F00:1 never).
    const auto test6 = mapped_test_name(2);
    z += fmt::format("{} IN A {}\n", test6, o.answer);
    z += fmt::format("{} IN TXT \"RFC 5782 test entry\"\n", test6);
  }
  for (const auto& l : listings) {
    if (l.ip == "127.0.0.1" || l.ip == "127.0.0.2") continue;
    auto name = reversed_name(l.ip);
    if (name.empty()) continue;
    z += fmt::format("{} IN A {}\n", name, o.answer);
    z += fmt::format("{} IN TXT \"{}\"\n", name, txt_reason(l));
  }
  return z;
}

}  // namespace relayscope::dnsbl
