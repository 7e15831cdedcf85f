// See route.hpp. Hops are peeled off the address one at a time; every hop is
// normalised (lower case, no trailing dot, canonical literal) and anything
// that does not parse as a host makes the route ambiguous, never "local".
#include "smtp/route.hpp"

#include "common/ascii.hpp"
#include "smtp/ip_literal.hpp"

namespace relayscope::smtp {

namespace {

using ascii::lower;  // one ASCII case helper (common/ascii.hpp)

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void add_literal(Route& r, std::string canonical, std::string wire) {
  r.has_literal = true;
  r.literals.push_back(std::move(canonical));
  r.hops.push_back(wire);
  r.final_domain = std::move(wire);
  r.final_is_literal = true;
}

void add_domain(Route& r, std::string domain) {
  r.final_domain = domain;
  r.final_is_literal = false;
  r.hops.push_back(domain);
  r.domains_in_order.push_back(std::move(domain));
}

void add_host(Route& r, const Host& h) {
  switch (h.kind) {
    case Host::Kind::domain: {
      std::string d = lower(h.text);
      if (!d.empty() && d.back() == '.') d.pop_back();
      if (d.empty()) {
        r.ambiguous = true;
        return;
      }
      // A dotted quad written as a domain is read as an address by resolvers
      // (and by MTAs that pass it to one): judge it as the literal it becomes.
      if (auto v4 = parse_ipv4(d)) {
        auto text = format_ipv4(*v4);
        add_literal(r, text, "[" + text + "]");
        return;
      }
      // No top-level domain is numeric: "10.1" or "2130706433" would be
      // taken as an address in some shorthand. Refuse to guess.
      auto dot = d.rfind('.');
      if (all_digits(dot == std::string::npos ? d : d.substr(dot + 1))) r.ambiguous = true;
      add_domain(r, std::move(d));
      return;
    }
    case Host::Kind::ipv4_literal: {
      auto v4 = parse_ipv4(h.text);
      if (!v4) break;
      auto text = format_ipv4(*v4);
      add_literal(r, text, "[" + text + "]");
      return;
    }
    case Host::Kind::ipv6_literal: {
      auto v6 = parse_ipv6(h.text);
      if (!v6) break;
      auto text = format_ipv6(*v6);
      add_literal(r, text, "[IPv6:" + text + "]");
      return;
    }
    case Host::Kind::general_literal:
      r.has_general_literal = true;
      add_literal(r, h.text, "[" + h.text + "]");
      return;
  }
  // A Host whose text does not match its kind (built by hand, not parsed).
  r.ambiguous = true;
  add_domain(r, lower(h.text));
}

// A hop written as text: inside a source route, or taken out of a local part.
void add_hop(Route& r, std::string_view text) {
  auto host = parse_host(text, /*lenient=*/true);
  if (!host) {
    r.ambiguous = true;
    add_domain(r, lower(text));
    return;
  }
  add_host(r, *host);
}

// Takes every hop out of the local part; what is left is the user.
void resolve_local_part(Route& r, std::string local) {
  bool bang = local.find('!') != std::string::npos;
  bool percent_or_at = local.find_first_of("%@") != std::string::npos;
  // sendmail and the UUCP world disagree on "a!b%c": no reading is safe.
  if (bang && percent_or_at) r.ambiguous = true;
  bool trick = bang || percent_or_at;
  // The percent hack and a quoted '@': the rightmost separator is the next
  // hop ("a%b%c" goes to c, which sees "a%b" and sends it to b).
  for (auto pos = local.find_last_of("%@"); pos != std::string::npos;
       pos = local.find_last_of("%@")) {
    (local[pos] == '%' ? r.percent_hack : r.quoted_at) = true;
    add_hop(r, std::string_view(local).substr(pos + 1));
    local.resize(pos);
  }
  // Bang paths: the leftmost name is the next hop ("x!y!user": x, then y).
  for (auto pos = local.find('!'); pos != std::string::npos; pos = local.find('!')) {
    r.bang_path = true;
    add_hop(r, std::string_view(local).substr(0, pos));
    local.erase(0, pos + 1);
  }
  if (trick && local.empty()) r.ambiguous = true;  // "%host@h", "a!"
  r.final_local_part = std::move(local);
}

void resolve_mailbox(Route& r, const Mailbox& m) {
  // An empty host: "<Postmaster>", or a bare local part given by hand.
  if (!(m.host.kind == Host::Kind::domain && m.host.text.empty())) add_host(r, m.host);
  resolve_local_part(r, m.local_part);
}

}  // namespace

bool Route::is_local(const std::function<bool(std::string_view)>& is_local_domain,
                     const std::function<bool(std::string_view)>& is_local_address) const {
  if (ambiguous || has_general_literal) return false;
  for (const auto& d : domains_in_order) {
    if (!is_local_domain(d)) return false;
  }
  for (const auto& a : literals) {
    if (!is_local_address(a)) return false;
  }
  return true;
}

Route resolve_route(const Mailbox& mailbox) {
  Route r;
  r.ambiguous = false;
  resolve_mailbox(r, mailbox);
  return r;
}

Route resolve_route(const Path& path) {
  Route r;
  if (path.null) return r;  // "<>" is nobody: ambiguous, never a local recipient
  r.ambiguous = false;
  for (const auto& hop : path.source_route) {
    r.source_routed = true;
    add_hop(r, hop);
  }
  resolve_mailbox(r, path.mailbox);
  return r;
}

}  // namespace relayscope::smtp
