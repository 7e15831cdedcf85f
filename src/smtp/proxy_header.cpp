// See proxy_header.hpp. Written from HAProxy's proxy-protocol.txt (2020):
// v1 is one text line "PROXY TCP4|TCP6|UNKNOWN ...\r\n"; v2 a 12-byte
// signature, version/command, family/transport, a 16-bit length, addresses.
#include "smtp/proxy_header.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace relayscope::smtp {

namespace {

constexpr std::array<unsigned char, 12> v2_signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                     0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view v1_prefix = "PROXY ";

ProxyParse invalid(std::string why) {
  ProxyParse p;
  p.status = ProxyStatus::invalid;
  p.error = std::move(why);
  return p;
}

// True when `bytes` is a (possibly partial) start of `prefix`.
bool starts_like(std::string_view bytes, std::string_view prefix) {
  auto n = std::min(bytes.size(), prefix.size());
  return bytes.substr(0, n) == prefix.substr(0, n);
}

bool parse_port(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 5) return false;
  if (text.size() > 1 && text[0] == '0') return false;  // the spec: no leading zeros
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  out = static_cast<std::uint16_t>(value);
  return true;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    auto sp = line.find(' ');
    out.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line = line.substr(sp + 1);
  }
  return out;
}

ProxyParse parse_v1(std::string_view bytes) {
  auto crlf = bytes.find("\r\n");
  if (crlf == std::string_view::npos) {
    if (bytes.size() >= max_proxy_v1_length) return invalid("PROXY v1 line longer than 107 bytes");
    // A lone LF or any control byte can never become a valid line.
    for (unsigned char c : bytes) {
      if ((c < 0x20 && c != '\r') || c > 0x7e) return invalid("PROXY v1 line has a control byte");
    }
    if (auto cr = bytes.find('\r'); cr != std::string_view::npos && cr + 1 < bytes.size()) {
      return invalid("PROXY v1 line has a CR without LF");
    }
    return {};
  }
  if (crlf + 2 > max_proxy_v1_length) return invalid("PROXY v1 line longer than 107 bytes");
  auto line = bytes.substr(0, crlf);
  for (unsigned char c : line) {
    if (c < 0x20 || c > 0x7e) return invalid("PROXY v1 line has a control byte");
  }
  auto fields = split_spaces(line);
  ProxyParse p;
  p.status = ProxyStatus::complete;
  p.header.version = 1;
  p.header.length = crlf + 2;
  if (fields.size() >= 2 && fields[1] == "UNKNOWN") return p;  // the rest is ignored
  if (fields.size() != 6) return invalid("PROXY v1 line needs 6 fields");
  bool v6 = fields[1] == "TCP6";
  if (!v6 && fields[1] != "TCP4") return invalid("PROXY v1: unknown protocol");
  auto src = IpAddress::parse(fields[2]);
  auto dst = IpAddress::parse(fields[3]);
  if (!src || !dst) return invalid("PROXY v1: bad address");
  if (src->is_v4 == v6 || dst->is_v4 == v6) return invalid("PROXY v1: address of the wrong family");
  if (!parse_port(fields[4], p.header.source_port) ||
      !parse_port(fields[5], p.header.destination_port)) {
    return invalid("PROXY v1: bad port");
  }
  p.header.has_addresses = true;
  p.header.source = *src;
  p.header.destination = *dst;
  return p;
}

IpAddress v4_from(const unsigned char* b) {
  IpAddress a;
  a.is_v4 = true;
  a.bytes[10] = 0xff;
  a.bytes[11] = 0xff;
  std::memcpy(a.bytes.data() + 12, b, 4);
  return a;
}

IpAddress v6_from(const unsigned char* b) {
  IpAddress a;
  std::memcpy(a.bytes.data(), b, 16);
  // An IPv4-mapped address is IPv4 (as IpAddress::parse treats it).
  static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  a.is_v4 = std::memcmp(b, mapped, 12) == 0;
  return a;
}

std::uint16_t be16(const unsigned char* b) {
  return static_cast<std::uint16_t>((b[0] << 8) | b[1]);
}

ProxyParse parse_v2(std::string_view text) {
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  if (text.size() < 16) return {};
  int version = b[12] >> 4;
  int command = b[12] & 0x0f;
  if (version != 2) return invalid("PROXY v2: unsupported version");
  if (command > 1) return invalid("PROXY v2: unknown command");
  std::size_t len = be16(b + 14);
  std::size_t total = 16 + len;
  if (total > max_proxy_v2_length) return invalid("PROXY v2 header longer than allowed");
  int family = b[13] >> 4;
  int transport = b[13] & 0x0f;
  if (family > 3 || transport > 2) return invalid("PROXY v2: unknown address family");
  std::size_t need = 0;
  if (family == 1) need = 12;
  if (family == 2) need = 36;
  if (family == 3) need = 216;
  if (len < need) return invalid("PROXY v2: length too short for its addresses");
  if (text.size() < total) return {};
  ProxyParse p;
  p.status = ProxyStatus::complete;
  p.header.version = 2;
  p.header.length = total;
  p.header.proxied = command == 1;
  // LOCAL: the proxy speaks for itself; addresses, if any, are ignored.
  if (!p.header.proxied || transport == 0 || (family != 1 && family != 2)) return p;
  const unsigned char* a = b + 16;
  if (family == 1) {
    p.header.source = v4_from(a);
    p.header.destination = v4_from(a + 4);
    p.header.source_port = be16(a + 8);
    p.header.destination_port = be16(a + 10);
  } else {
    p.header.source = v6_from(a);
    p.header.destination = v6_from(a + 16);
    p.header.source_port = be16(a + 32);
    p.header.destination_port = be16(a + 34);
  }
  p.header.has_addresses = true;
  return p;
}

}  // namespace

ProxyParse parse_proxy_header(std::string_view bytes) {
  if (bytes.empty()) return {};
  std::string_view sig(reinterpret_cast<const char*>(v2_signature.data()), v2_signature.size());
  if (starts_like(bytes, sig)) {
    if (bytes.size() < sig.size()) return {};
    return parse_v2(bytes);
  }
  if (starts_like(bytes, v1_prefix)) {
    if (bytes.size() < v1_prefix.size()) return {};
    return parse_v1(bytes);
  }
  return invalid("no PROXY header");
}

}  // namespace relayscope::smtp
