// See config_parts.hpp: issue 14's sections of the relay's configuration,
// read after the others because they need [limits], [tls], [auth], [policy]
// and [spool]: [[listener]] (roles, PROXY protocol, per-listener limits),
// [aliases], [senders], [rate_limits] and [pop_before_smtp].
#include <algorithm>

#include "common/ascii.hpp"
#include "server/config_parts.hpp"

namespace relayscope::server::config_parts {

namespace {

using ascii::lower;  // one ASCII case helper (common/ascii.hpp)

// [server] listen's addresses, then each [[listener]].
Status read_listeners(const Ctx& c, const toml::table& root, Config& cfg) {
  for (const auto& a : cfg.listen) {
    ListenerConfig l;
    l.address = a;
    l.max_message_size = cfg.limits.max_message_size;
    l.max_recipients = cfg.limits.max_recipients;
    cfg.listeners.push_back(std::move(l));
  }
  const auto* arr = root["listener"].as_array();
  for (std::size_t i = 0; arr && i < arr->size(); ++i) {
    Section sec{c, "listener", arr->get(i)->as_table()};
    const toml::node* where = sec.t;
    ListenerConfig l;
    auto address = sec.str("address");
    if (!address) return address.error();
    if (!*address) return c.at(where, "listener.address is required");
    auto a = parse_listen_address(**address);
    if (!a) return c.at(sec.node("address"), "listener.address: " + a.error().message);
    l.address = *a;
    auto role = sec.str("role");
    if (!role) return role.error();
    if (!*role) {
      return c.at(where, "listener.role is required: \"mx\", \"submission\" or \"submissions\"");
    }
    if (**role == "mx") {
      l.role = ListenerRole::mx;
    } else if (**role == "submission") {
      l.role = ListenerRole::submission;
    } else if (**role == "submissions") {
      l.role = ListenerRole::submissions;
    } else {
      return c.at(sec.node("role"),
                  "listener.role must be \"mx\", \"submission\" or "
                  "\"submissions\", not '" +
                      **role + "'");
    }
    if (l.role != ListenerRole::mx && (!cfg.tls() || cfg.users_file.empty())) {
      return c.at(sec.node("role"), std::string("listener.role \"") + to_string(l.role) +
                                        "\" needs [tls] and auth.users_file: clients log in there");
    }
    if (auto s = sec.boolean("proxy_protocol", l.proxy_protocol); !s) return s.error();
    auto proxies = sec.strs("trusted_proxies");
    if (!proxies) return proxies.error();
    for (std::size_t j = 0; *proxies && j < (*proxies)->size(); ++j) {
      const auto& text = (**proxies)[j];
      auto cidr = Cidr::parse(text);
      if (!cidr) {
        return c.at(sec.element("trusted_proxies", j),
                    "listener.trusted_proxies: '" + text +
                        "' is not a CIDR block: " + cidr.error().message);
      }
      l.trusted_proxies.add(*cidr);
    }
    if (l.proxy_protocol && l.trusted_proxies.empty()) {
      return c.at(sec.node("proxy_protocol"),
                  "listener.trusted_proxies is required when proxy_protocol = true");
    }
    if (!l.proxy_protocol && !l.trusted_proxies.empty()) {
      return c.at(sec.node("trusted_proxies"),
                  "listener.trusted_proxies needs proxy_protocol = true (else it does nothing)");
    }
    l.max_message_size = cfg.limits.max_message_size;
    l.max_recipients = cfg.limits.max_recipients;
    if (auto s = sec.integer("max_message_size", l.max_message_size, 1024, std::int64_t(1) << 32);
        !s) {
      return s.error();
    }
    if (auto s = sec.integer("max_recipients", l.max_recipients, 1, 100000); !s) return s.error();
    for (const auto& other : cfg.listeners) {
      if (other.address.address == l.address.address && other.address.port == l.address.port) {
        return c.at(sec.node("address"),
                    "listener.address " + l.address.to_string() + " is already a listener");
      }
    }
    if (l.role == ListenerRole::mx) cfg.listen.push_back(l.address);
    cfg.listeners.push_back(std::move(l));
  }
  return Ok{};
}

bool is_local_domain(const Config& cfg, const std::string& d) {
  return std::find(cfg.local_domains.begin(), cfg.local_domains.end(), d) !=
         cfg.local_domains.end();
}

// A string or an array of strings (non-empty), lower-cased.
Expected<std::vector<std::string>> one_or_more(const Ctx& c, const toml::node& n,
                                               const std::string& what) {
  std::vector<std::string> out;
  if (auto* s = n.as_string()) {
    out.push_back(lower(s->get()));
  } else if (auto* a = n.as_array()) {
    for (const auto& e : *a) {
      auto* es = e.as_string();
      if (!es) return c.at(&e, what + " must hold strings only");
      out.push_back(lower(es->get()));
    }
  } else {
    return c.at(&n, what + " must be a string or an array of strings");
  }
  if (out.empty()) return c.at(&n, what + " is empty");
  return out;
}

Status read_aliases_and_senders(const Ctx& c, const toml::table& root, Config& cfg) {
  if (const auto* t = root["aliases"].as_table()) {
    if (cfg.local_domains.empty() && !t->empty()) {
      return c.at(t, "aliases need policy.local_domains: they name local mailboxes");
    }
    for (const auto& [k, v] : *t) {
      auto key = lower(std::string(k.str()));
      auto what = "aliases.\"" + key + "\"";
      auto at = key.rfind('@');
      if (at == 0) {
        if (!is_local_domain(cfg, key.substr(1))) {
          return c.at(&v, what + ": a catch-all needs a local domain (policy.local_domains)");
        }
      } else if (at != std::string::npos) {
        if (!plain_address(key)) return c.at(&v, what + " is not an address");
        if (!is_local_domain(cfg, key.substr(at + 1))) {
          return c.at(&v, what + " is not at a local domain (policy.local_domains)");
        }
      } else if (!plain_name(key)) {
        return c.at(&v, what + " is not a local part");
      }
      if (cfg.aliases.count(key)) return c.at(&v, what + " is given twice");
      auto targets = one_or_more(c, v, what);
      if (!targets) return targets.error();
      for (const auto& target : *targets) {
        if (target.find('@') == std::string::npos ? !plain_name(target) : !plain_address(target)) {
          return c.at(&v, what + ": '" + target + "' is neither a user name nor an address");
        }
      }
      cfg.aliases[key] = std::move(*targets);
    }
  }
  if (const auto* t = root["senders"].as_table()) {
    for (const auto& [k, v] : *t) {
      auto user = lower(std::string(k.str()));
      auto what = "senders." + user;
      if (!plain_name(user)) return c.at(&v, what + ": not a user name");
      if (cfg.senders.count(user)) return c.at(&v, what + " is given twice");
      auto addresses = one_or_more(c, v, what);
      if (!addresses) return addresses.error();
      for (const auto& a : *addresses) {
        bool ok = a.size() > 1 && a.front() == '@' ? valid_domain(a.substr(1)) : plain_address(a);
        if (!ok) return c.at(&v, what + ": '" + a + "' is not an address or \"@domain\"");
      }
      cfg.senders[user] = std::move(*addresses);
    }
  }
  return Ok{};
}

}  // namespace

Status read_remote_access(const Ctx& c, const toml::table& root, Config& cfg) {
  if (auto s = read_listeners(c, root, cfg); !s) return s.error();
  if (cfg.listeners.empty()) return Section{c, "server", nullptr}.missing("listen", root);
  if (auto s = read_aliases_and_senders(c, root, cfg); !s) return s.error();

  Section rl{c, "rate_limits", root["rate_limits"].as_table()};
  auto& r = cfg.rate_limits;
  const std::int64_t most = 1000000000;
  for (auto [key, out] :
       {std::pair{"messages_per_hour_per_user", &r.messages_per_hour_per_user},
        std::pair{"recipients_per_hour_per_user", &r.recipients_per_hour_per_user},
        std::pair{"messages_per_hour_per_client", &r.messages_per_hour_per_client},
        std::pair{"recipients_per_hour_per_client", &r.recipients_per_hour_per_client}}) {
    if (auto s = rl.integer(key, *out, 0, most); !s) return s.error();
  }

  Section pop{c, "pop_before_smtp", root["pop_before_smtp"].as_table()};
  if (pop.node("window")) {
    Millis window{};
    if (auto s = pop.duration("window", window, Millis(1000)); !s) return s.error();
    if (window > std::chrono::hours(24 * 7)) {
      return c.at(pop.node("window"), "pop_before_smtp.window is longer than 7 days");
    }
    cfg.pop_before_smtp.window = window;
  }
  auto dir = pop.str("dir");
  if (!dir) return dir.error();
  if (*dir && (*dir)->empty()) return c.at(pop.node("dir"), "pop_before_smtp.dir is empty");
  cfg.pop_before_smtp.dir = *dir ? c.resolve(**dir) : cfg.spool_dir + "/windows";
  return Ok{};
}

}  // namespace relayscope::server::config_parts
