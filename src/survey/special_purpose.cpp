// See special_purpose.hpp.
#include "survey/special_purpose.hpp"

#include <algorithm>

namespace relayscope::survey {

const std::vector<Cidr>& special_purpose_ranges() {
  static const std::vector<Cidr> ranges = [] {
    std::vector<Cidr> out;
    for (const char* text : {
             // RFC 6890 table of IPv4 special-purpose addresses (and successors).
             "0.0.0.0/8",           // "this network"
             "10.0.0.0/8",          // private use (RFC 1918)
             "100.64.0.0/10",       // shared address space (RFC 6598)
             "127.0.0.0/8",         // loopback
             "169.254.0.0/16",      // link local
             "172.16.0.0/12",       // private use
             "192.0.0.0/24",        // IETF protocol assignments
             "192.0.2.0/24",        // documentation (TEST-NET-1)
             "192.88.99.0/24",      // 6to4 relay anycast
             "192.168.0.0/16",      // private use
             "198.18.0.0/15",       // benchmarking
             "198.51.100.0/24",     // documentation (TEST-NET-2)
             "203.0.113.0/24",      // documentation (TEST-NET-3)
             "224.0.0.0/4",         // multicast (RFC 5771)
             "240.0.0.0/4",         // reserved
             "255.255.255.255/32",  // limited broadcast
             // RFC 6890 table of IPv6 special-purpose addresses.
             "::1/128",  // loopback
             "::/128",   // unspecified
             // ::ffff:0:0/96 (IPv4-mapped) is not listed: common/cidr.hpp
             // takes a mapped address as the IPv4 address it maps, judged
             // by the IPv4 ranges above.
             "64:ff9b::/96",   // IPv4-IPv6 translation
             "100::/64",       // discard-only
             "2001::/23",      // IETF protocol assignments
             "2001:db8::/32",  // documentation
             "fc00::/7",       // unique local
             "fe80::/10",      // link-scoped unicast
             "ff00::/8",       // multicast
         }) {
      out.push_back(*Cidr::parse(text));
    }
    return out;
  }();
  return ranges;
}

bool cidr_within(const Cidr& inner, const Cidr& outer) {
  return inner.network.is_v4 == outer.network.is_v4 && inner.prefix >= outer.prefix &&
         outer.contains(inner.network);
}

CidrSet default_exclusions(const CidrSet& scope) {
  CidrSet out;
  for (const auto& range : special_purpose_ranges()) {
    const bool lifted = std::any_of(scope.blocks().begin(), scope.blocks().end(),
                                    [&range](const Cidr& s) { return cidr_within(s, range); });
    if (!lifted) out.add(range);
  }
  return out;
}

namespace {

// The bit `bit` (0: the most significant) of an address in its own family.
bool bit_of(const IpAddress& a, int bit) {
  const int at = a.is_v4 ? bit + 96 : bit;
  return (a.bytes[static_cast<std::size_t>(at / 8)] >> (7 - at % 8)) & 1;
}

IpAddress flip(IpAddress a, int bit) {
  const int at = a.is_v4 ? bit + 96 : bit;
  a.bytes[static_cast<std::size_t>(at / 8)] ^= static_cast<std::uint8_t>(1 << (7 - at % 8));
  return a;
}

// `block` less `hole` (inside it): the sibling of each prefix on the way
// down to the hole's own address.
void split_around(const Cidr& block, const IpAddress& hole, std::vector<Cidr>& out) {
  const int width = hole.is_v4 ? 32 : 128;
  for (int bit = block.prefix; bit < width; ++bit) {
    Cidr sibling{flip(hole, bit), bit + 1};
    // The network address of the sibling: clear the bits below its prefix.
    for (int low = bit + 1; low < width; ++low) {
      if (bit_of(sibling.network, low)) sibling.network = flip(sibling.network, low);
    }
    out.push_back(sibling);
  }
}

}  // namespace

std::vector<Cidr> without_addresses(const std::vector<Cidr>& ranges,
                                    const std::vector<IpAddress>& spared) {
  std::vector<Cidr> blocks = ranges;
  for (const auto& hole : spared) {
    std::vector<Cidr> next;
    for (const auto& b : blocks) {
      if (b.contains(hole)) {
        split_around(b, hole, next);
      } else {
        next.push_back(b);
      }
    }
    blocks = std::move(next);
  }
  return blocks;
}

bool reaches_beyond_special_purpose(const CidrSet& scope) {
  if (scope.empty()) return true;
  return std::any_of(scope.blocks().begin(), scope.blocks().end(), [](const Cidr& s) {
    const auto& ranges = special_purpose_ranges();
    return std::none_of(ranges.begin(), ranges.end(),
                        [&s](const Cidr& r) { return cidr_within(s, r); });
  });
}

}  // namespace relayscope::survey
