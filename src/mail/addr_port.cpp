// See addr_port.hpp.
#include "mail/addr_port.hpp"

namespace relayscope::mail {

std::string AddrPort::to_string() const {
  auto host = address.to_string();
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return port ? host + ":" + std::to_string(*port) : host;
}

Expected<AddrPort> parse_addr_port(std::string_view text, AddrPortRules rules) {
  const std::string whole(text);
  std::string_view host = text, port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return make_error("'" + whole + "': missing ']' after the IPv6 address");
    }
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return make_error("'" + whole + "': expected ':PORT' after ']'");
      port = rest.substr(1);
      has_port = true;
    }
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    if (text.find(':', colon + 1) != std::string_view::npos) {
      return make_error("'" + whole + "': an IPv6 address goes in brackets: [ADDR]:PORT");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
  }
  if (!has_port && !rules.port_optional) return make_error("'" + whole + "' is not ADDR:PORT");
  auto ip = IpAddress::parse(host);
  if (!ip) return make_error("'" + std::string(host) + "' is not an IP address");
  AddrPort out{*ip, std::nullopt};
  if (has_port) {
    auto bad_port = [&] {
      return make_error("'" + whole + "': port must be " + (rules.port_zero ? "0" : "1") +
                        "..65535");
    };
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
      return bad_port();
    }
    auto n = std::stoul(std::string(port));
    if (n > 65535 || (n == 0 && !rules.port_zero)) return bad_port();
    out.port = static_cast<std::uint16_t>(n);
  }
  return out;
}

}  // namespace relayscope::mail
