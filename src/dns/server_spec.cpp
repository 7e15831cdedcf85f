// Parsing of "HOST:PORT" DNS server specs (IPv6 in brackets).
#include "dns/server_spec.hpp"

#include <charconv>

namespace relayscope::dns {

namespace {

Expected<std::uint16_t> parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return make_error("DNS server '" + std::string(whole) + "': port must be 1..65535");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string ServerSpec::to_string() const {
  auto host = address.to_string();
  if (!address.is_v4) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

Expected<ServerSpec> parse_server_spec(std::string_view text) {
  const std::string whole(text);
  if (text.empty()) return make_error("DNS server: empty, expected HOST:PORT");
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return make_error("DNS server '" + whole + "': missing ']' after the IPv6 address");
    }
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return make_error("DNS server '" + whole + "': expected ':PORT' after ']'");
      }
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return make_error("DNS server '" + whole +
                        "': an IPv6 address needs brackets, as in [::1]:53");
    }
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
      has_port = true;
    }
  }
  auto address = IpAddress::parse(host);
  if (!address) {
    return make_error("DNS server '" + whole + "': '" + std::string(host) +
                      "' is not an IP address (name servers are given by address)");
  }
  ServerSpec spec;
  spec.address = *address;
  if (has_port) {
    auto p = parse_port(port, whole);
    if (!p) return p.error();
    spec.port = *p;
  }
  return spec;
}

Expected<std::vector<ServerSpec>> parse_server_specs(const std::vector<std::string>& texts) {
  if (texts.empty()) return make_error("no DNS server given (--dns HOST:PORT)");
  std::vector<ServerSpec> specs;
  specs.reserve(texts.size());
  for (const auto& t : texts) {
    auto s = parse_server_spec(t);
    if (!s) return s.error();
    specs.push_back(*s);
  }
  return specs;
}

}  // namespace relayscope::dns
