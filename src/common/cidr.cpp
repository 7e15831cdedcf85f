// See cidr.hpp. inet_pton does the address grammar; this file only adds the
// prefix and the matching.
#include "common/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace relayscope {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string s(text);
  IpAddress a;
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    a.is_v4 = true;
    a.bytes[10] = 0xff;
    a.bytes[11] = 0xff;
    std::memcpy(&a.bytes[12], &v4, 4);
    return a;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(a.bytes.data(), &v6, 16);
    // An IPv4-mapped IPv6 address is the IPv4 address for every rule here.
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    a.is_v4 = std::memcmp(a.bytes.data(), mapped, 12) == 0;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4) {
    inet_ntop(AF_INET, &bytes[12], buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  }
  return buf;
}

Expected<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return make_error("not an IP address: '" + std::string(text.substr(0, slash)) + "'");
  int max = addr->is_v4 ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || prefix < 0 ||
        prefix > max) {
      return make_error("bad prefix length in '" + std::string(text) + "'");
    }
  }
  Cidr c{*addr, prefix};
  return c;
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.is_v4 != network.is_v4) return false;
  int bits = network.is_v4 ? prefix + 96 : prefix;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((address.bytes[i] & mask) != (network.bytes[i] & mask)) return false;
  }
  return true;
}

std::string Cidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix);
}

Expected<CidrSet> CidrSet::parse(const std::vector<std::string>& texts) {
  std::vector<Cidr> blocks;
  for (const auto& t : texts) {
    auto c = Cidr::parse(t);
    if (!c) return c.error();
    blocks.push_back(*c);
  }
  return CidrSet(std::move(blocks));
}

bool CidrSet::contains(const IpAddress& address) const {
  for (const auto& b : blocks_) {
    if (b.contains(address)) return true;
  }
  return false;
}

}  // namespace relayscope
