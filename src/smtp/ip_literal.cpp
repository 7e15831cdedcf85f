// See ip_literal.hpp. Hand-written rather than inet_pton: the 5321 grammar
// differs (leading zeros refused as ambiguous, "::" for one group refused) and
// this library must depend on nothing but the standard library.
#include "smtp/ip_literal.hpp"

#include <vector>

namespace relayscope::smtp {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// IPv6-hex *(":" IPv6-hex), or nothing for an empty text.
bool hex_groups(std::string_view s, std::vector<std::uint16_t>& out) {
  if (s.empty()) return true;
  std::size_t i = 0;
  for (;;) {
    std::size_t start = i;
    unsigned value = 0;
    while (i < s.size() && hex_value(s[i]) >= 0 && i - start < 4) {
      value = value * 16 + static_cast<unsigned>(hex_value(s[i]));
      ++i;
    }
    if (i == start) return false;  // empty group or a non-hex character
    out.push_back(static_cast<std::uint16_t>(value));
    if (out.size() > 8) return false;
    if (i == s.size()) return true;
    if (s[i] != ':') return false;  // includes a fifth hex digit
    ++i;
    if (i == s.size()) return false;  // trailing ':'
  }
}

}  // namespace

std::optional<Ipv4Bytes> parse_ipv4(std::string_view s) {
  Ipv4Bytes out{};
  std::size_t i = 0;
  for (std::size_t part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
    std::size_t start = i;
    unsigned value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
    }
    if (i == start || value > 255) return std::nullopt;
    // "010" is ten in RFC 5321 but eight to inet_aton: refuse the ambiguity.
    if (i - start > 1 && s[start] == '0') return std::nullopt;
    out[part] = static_cast<std::uint8_t>(value);
  }
  if (i != s.size()) return std::nullopt;
  return out;
}

std::optional<Ipv6Bytes> parse_ipv6(std::string_view s) {
  if (s.empty()) return std::nullopt;
  // A trailing IPv4 address takes the place of the last two groups.
  std::optional<Ipv4Bytes> v4;
  std::string_view head = s;
  auto last_colon = s.rfind(':');
  if (last_colon == std::string_view::npos) return std::nullopt;
  if (s.find('.', last_colon) != std::string_view::npos) {
    v4 = parse_ipv4(s.substr(last_colon + 1));
    if (!v4) return std::nullopt;
    head = s.substr(0, last_colon + 1);
    // Keep a "::" before the IPv4 part; drop a plain ':' separator.
    if (head.size() < 2 || head.substr(head.size() - 2) != "::") head.remove_suffix(1);
  }
  std::vector<std::uint16_t> left;
  std::vector<std::uint16_t> right;
  auto gap = head.find("::");
  if (gap == std::string_view::npos) {
    if (!hex_groups(head, left)) return std::nullopt;
    if (left.size() != (v4 ? 6u : 8u)) return std::nullopt;
  } else {
    if (head.find("::", gap + 1) != std::string_view::npos) return std::nullopt;  // also ":::"
    if (!hex_groups(head.substr(0, gap), left) || !hex_groups(head.substr(gap + 2), right)) {
      return std::nullopt;
    }
    // "::" represents at least two zero groups (RFC 5321 4.1.3).
    if (left.size() + right.size() > (v4 ? 4u : 6u)) return std::nullopt;
  }
  Ipv6Bytes out{};
  std::size_t groups = v4 ? 6 : 8;
  for (std::size_t k = 0; k < left.size(); ++k) {
    out[2 * k] = static_cast<std::uint8_t>(left[k] >> 8);
    out[2 * k + 1] = static_cast<std::uint8_t>(left[k] & 0xff);
  }
  for (std::size_t k = 0; k < right.size(); ++k) {
    std::size_t g = groups - right.size() + k;
    out[2 * g] = static_cast<std::uint8_t>(right[k] >> 8);
    out[2 * g + 1] = static_cast<std::uint8_t>(right[k] & 0xff);
  }
  if (v4) {
    for (std::size_t k = 0; k < 4; ++k) out[12 + k] = (*v4)[k];
  }
  return out;
}

std::string format_ipv4(const Ipv4Bytes& a) {
  return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
         std::to_string(a[3]);
}

std::string format_ipv6(const Ipv6Bytes& a) {
  std::uint16_t g[8];
  for (std::size_t k = 0; k < 8; ++k)
    g[k] = static_cast<std::uint16_t>(a[2 * k] << 8 | a[2 * k + 1]);
  // RFC 5952 5: IPv4-mapped addresses keep the dotted quad.
  bool mapped = g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff;
  if (mapped) return "::ffff:" + format_ipv4({a[12], a[13], a[14], a[15]});
  // RFC 5952 4.2: compress the longest run of two or more zero groups (the
  // first one on a tie).
  int best = -1;
  int best_len = 1;
  for (int k = 0; k < 8;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    int start = k;
    while (k < 8 && g[k] == 0) ++k;
    if (k - start > best_len) {
      best = start;
      best_len = k - start;
    }
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (int k = 0; k < 8; ++k) {
    if (k == best) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::string group;
    for (unsigned v = g[k];; v >>= 4) {
      group.insert(group.begin(), digits[v & 0xf]);
      if (v < 16) break;
    }
    out += group;
  }
  return out;
}

}  // namespace relayscope::smtp
