// The PROXY protocol header (HAProxy's spec, versions 1 and 2), pure: a load
// balancer in front of a listener sends it first, naming the real client.
// The parser is incremental: given the bytes received so far it says
// "complete" (with the header's length, so the caller keeps what follows),
// "need more bytes", or "invalid". A v1 header is at most 107 bytes; a v2
// header at most max_proxy_v2_length bytes (16 + addresses + TLVs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/cidr.hpp"

namespace relayscope::smtp {

inline constexpr std::size_t max_proxy_v1_length = 107;   // the spec's bound, CRLF included
inline constexpr std::size_t max_proxy_v2_length = 2048;  // ours: addresses + TLVs we skip

struct ProxyHeader {
  int version = 0;  // 1 or 2
  // false for v2 LOCAL (a health check of the proxy itself): the connection's
  // own endpoints stand.
  bool proxied = true;
  // false for v1 UNKNOWN and v2 families other than TCP/UDP over IPv4/IPv6:
  // no addresses were passed, the connection's own endpoints stand.
  bool has_addresses = false;
  IpAddress source;
  IpAddress destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::size_t length = 0;  // bytes of the header; the SMTP stream starts after them
};

enum class ProxyStatus { complete, need_more, invalid };

struct ProxyParse {
  ProxyStatus status = ProxyStatus::need_more;
  ProxyHeader header;  // when complete
  std::string error;   // when invalid: one line for the log
};

// `bytes` are the first bytes of the connection (any amount; only the header
// is looked at). A caller that has read max_proxy_v2_length bytes and still
// gets need_more will not: the bounds make it invalid first.
ProxyParse parse_proxy_header(std::string_view bytes);

}  // namespace relayscope::smtp
