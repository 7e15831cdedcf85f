// Parsing of "HOST:PORT" DNS server specs (IPv6 in brackets).
#include "dns/server_spec.hpp"

#include "mail/addr_port.hpp"

namespace relayscope::dns {

std::string ServerSpec::to_string() const {
  auto host = address.to_string();
  if (!address.is_v4) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

Expected<ServerSpec> parse_server_spec(std::string_view text) {
  if (text.empty()) return make_error("DNS server: empty, expected HOST:PORT");
  auto a = mail::parse_addr_port(text, {.port_optional = true});
  if (!a) {
    auto why = a.error().message;
    if (why.find("not an IP address") != std::string::npos) {
      why += " (name servers are given by address)";
    }
    return make_error("DNS server " + why);
  }
  ServerSpec spec;
  spec.address = a->address;
  if (a->port) spec.port = *a->port;
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
