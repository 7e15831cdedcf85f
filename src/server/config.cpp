// See config.hpp. Each section lists its known keys; values are read with
// their type checked, and every error names the line of the offending node
// (or of its table when a required key is missing).
#include "server/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/ascii.hpp"
#include "mail/addr_port.hpp"

namespace relayscope::server {

namespace {

// The longest duration the configuration accepts (see parse_duration).
constexpr long long max_duration_ms = 3650LL * 86400 * 1000;

struct Ctx {
  std::string path;
  Error at(const toml::node* n, const std::string& what) const {
    auto line = n ? n->source().begin.line : 1;
    if (line == 0) line = 1;
    return make_error(path + ":" + std::to_string(line) + ": " + what);
  }
  // Relative paths are relative to the configuration file's directory.
  std::string resolve(const std::string& p) const {
    if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
    auto dir = std::filesystem::path(path).parent_path();
    return (dir / p).lexically_normal().string();
  }
};

using ascii::lower;  // one ASCII case helper (common/ascii.hpp)

using Known = std::map<std::string, std::set<std::string>>;

const Known& known_keys() {
  static const Known k{
      {"server", {"listen", "hostname", "user", "pidfile"}},
      {"policy", {"local_networks", "local_domains"}},
      {"mailboxes", {"root"}},
      {"spool", {"dir", "fsync"}},
      {"delivery",
       {"smarthost", "dns", "retry", "max_queue_time", "scope", "port", "concurrency",
        "connect_timeout"}},
      {"limits",
       {"max_message_size", "max_recipients", "max_errors", "max_connections",
        "max_connections_per_ip", "max_line_length", "max_auth_failures"}},
      {"timeouts", {"command", "idle", "data", "greet_pause"}},
      {"tls", {"cert", "key"}},
      {"auth", {"users_file", "failure_delay"}},
      {"dnsbl", {"zones", "dns", "timeout"}},
      {"log", {"level", "to", "file"}},
      // Issue 14 ([aliases] and [senders] have keys of the user's choosing).
      {"listener",
       {"address", "role", "proxy_protocol", "trusted_proxies", "max_message_size",
        "max_recipients"}},
      {"rate_limits",
       {"messages_per_hour_per_user", "recipients_per_hour_per_user",
        "messages_per_hour_per_client", "recipients_per_hour_per_client"}},
      {"pop_before_smtp", {"window", "dir"}},
      {"aliases", {}},
      {"senders", {}},
  };
  return k;
}

// Sections whose keys are names (aliases, users), not settings.
bool open_section(const std::string& name) {
  return name == "aliases" || name == "senders";
}

Status check_keys(const Ctx& c, const toml::table& root) {
  for (const auto& [k, v] : root) {
    auto name = std::string(k.str());
    auto it = known_keys().find(name);
    if (it == known_keys().end()) return c.at(&v, "unknown section [" + name + "]");
    if (name == "listener") {
      // [[listener]]: an array of tables, each checked like a section.
      auto* arr = v.as_array();
      if (!arr) return c.at(&v, "listener must be written [[listener]] (an array of tables)");
      for (const auto& e : *arr) {
        auto* lt = e.as_table();
        if (!lt) return c.at(&e, "listener must be written [[listener]] (an array of tables)");
        for (const auto& [kk, vv] : *lt) {
          auto key = std::string(kk.str());
          if (!it->second.count(key)) return c.at(&vv, "unknown key listener." + key);
        }
      }
      continue;
    }
    auto* t = v.as_table();
    if (!t) return c.at(&v, "[" + name + "] must be a table");
    for (const auto& [kk, vv] : *t) {
      auto key = std::string(kk.str());
      if (!open_section(name) && !it->second.count(key)) {
        return c.at(&vv, "unknown key " + name + "." + key);
      }
    }
  }
  return Ok{};
}

// Reader of one section; missing keys keep their defaults.
struct Section {
  const Ctx& c;
  std::string name;
  const toml::table* t;  // null when the section is absent

  const toml::node* node(const std::string& key) const { return t ? t->get(key) : nullptr; }

  Expected<std::optional<std::string>> str(const std::string& key) const {
    auto* n = node(key);
    if (!n) return std::optional<std::string>();
    auto* s = n->as_string();
    if (!s) return c.at(n, name + "." + key + " must be a string");
    return std::optional<std::string>(s->get());
  }

  Expected<std::optional<std::vector<std::string>>> strs(const std::string& key) const {
    auto* n = node(key);
    if (!n) return std::optional<std::vector<std::string>>();
    auto* a = n->as_array();
    if (!a) return c.at(n, name + "." + key + " must be an array of strings");
    std::vector<std::string> out;
    for (const auto& e : *a) {
      auto* s = e.as_string();
      if (!s) return c.at(&e, name + "." + key + " must hold strings only");
      out.push_back(s->get());
    }
    return std::optional<std::vector<std::string>>(std::move(out));
  }

  template <class T>
  Status integer(const std::string& key, T& out, std::int64_t min, std::int64_t max) const {
    auto* n = node(key);
    if (!n) return Ok{};
    auto* i = n->as_integer();
    if (!i) return c.at(n, name + "." + key + " must be an integer");
    auto v = i->get();
    if (v < min || v > max) {
      return c.at(n, name + "." + key + " must be between " + std::to_string(min) + " and " +
                         std::to_string(max));
    }
    out = static_cast<T>(v);
    return Ok{};
  }

  Status boolean(const std::string& key, bool& out) const {
    auto* n = node(key);
    if (!n) return Ok{};
    auto* b = n->as_boolean();
    if (!b) return c.at(n, name + "." + key + " must be true or false");
    out = b->get();
    return Ok{};
  }

  Status duration(const std::string& key, Millis& out, Millis min = Millis(0)) const {
    auto* n = node(key);
    if (!n) return Ok{};
    if (auto* i = n->as_integer()) {
      out = Millis(i->get() * 1000);
    } else if (auto* s = n->as_string()) {
      auto d = parse_duration(s->get());
      if (!d) return c.at(n, name + "." + key + ": " + d.error().message);
      out = *d;
    } else {
      return c.at(n, name + "." + key + " must be a duration such as \"30s\" or \"5m\"");
    }
    if (out < min) return c.at(n, name + "." + key + " is too short");
    return Ok{};
  }

  // The i-th element of an array key (for an error on that very line).
  const toml::node* element(const std::string& key, std::size_t i) const {
    auto* n = node(key);
    auto* a = n ? n->as_array() : nullptr;
    if (!a || i >= a->size()) return n;
    return a->get(i);
  }

  Error missing(const std::string& key, const toml::table& root) const {
    const toml::node* where = t ? static_cast<const toml::node*>(t) : &root;
    return c.at(where, name + "." + key + " is required");
  }
};

bool valid_domain(const std::string& d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  std::size_t label = 0;
  for (char ch : d) {
    if (ch == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') return false;
    if (++label > 63) return false;
  }
  return true;
}

// Issue 14's sections: [[listener]], [aliases], [senders], [rate_limits],
// [pop_before_smtp]. Runs after the rest: it needs [limits], [tls], [auth],
// [policy] and [spool].
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

bool plain_name(const std::string& s) {  // a local part or user name: no '@', printable
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    auto u = static_cast<unsigned char>(ch);
    return u > 0x20 && u < 0x7f && ch != '@' && ch != ':';
  });
}

bool plain_address(const std::string& s) {  // local@domain
  auto at = s.rfind('@');
  if (at == std::string::npos || at == 0) return false;
  return plain_name(s.substr(0, at)) && valid_domain(s.substr(at + 1));
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

std::size_t line_of_node(const toml::node& n) {
  return n.source().begin.line ? n.source().begin.line : 1;
}

void record_lines(const toml::table& root, std::map<std::string, std::size_t>& out) {
  for (const auto& [section, table] : root) {
    auto name = std::string(section.str());
    out[name] = line_of_node(table);
    auto* t = table.as_table();
    if (!t) continue;
    for (const auto& [key, value] : *t) {
      auto full = name + "." + std::string(key.str());
      out[full] = line_of_node(value);
      if (auto* a = value.as_array()) {
        for (std::size_t i = 0; i < a->size(); ++i) {
          out[full + "[" + std::to_string(i) + "]"] = line_of_node(*a->get(i));
        }
      }
    }
  }
}

Expected<Config> read(const Ctx& c, const toml::table& root) {
  if (auto s = check_keys(c, root); !s) return s.error();
  Config cfg;
  cfg.path = c.path;
  auto sec = [&](const char* name) { return Section{c, name, root[name].as_table()}; };

#define TRY(expr)                                 \
  do {                                            \
    if (auto s_ = (expr); !s_) return s_.error(); \
  } while (0)
#define GET(var, expr) \
  auto var = (expr);   \
  if (!var) return var.error()

  // [server]
  auto server = sec("server");
  GET(listen, server.strs("listen"));
  bool has_listener_tables = root.contains("listener");  // [[listener]] (issue 14)
  if ((!*listen || (*listen)->empty()) && !has_listener_tables) {
    return server.missing("listen", root);
  }
  for (std::size_t i = 0; *listen && i < (*listen)->size(); ++i) {
    auto a = parse_listen_address((**listen)[i]);
    if (!a) {
      return c.at(server.element("listen", i), "server.listen: " + a.error().message);
    }
    cfg.listen.push_back(*a);
  }
  GET(hostname, server.str("hostname"));
  if (!*hostname) return server.missing("hostname", root);
  cfg.hostname = lower(**hostname);
  if (!valid_domain(cfg.hostname)) {
    return c.at(server.node("hostname"),
                "server.hostname is not a domain name: '" + **hostname + "'");
  }
  GET(user, server.str("user"));
  if (*user) cfg.user = **user;
  GET(pidfile, server.str("pidfile"));

  // [policy]
  auto policy = sec("policy");
  GET(nets, policy.strs("local_networks"));
  if (*nets) {
    for (std::size_t i = 0; i < (*nets)->size(); ++i) {
      const auto& n = (**nets)[i];
      auto cidr = Cidr::parse(n);
      if (!cidr) {
        return c.at(
            policy.element("local_networks", i),
            "policy.local_networks: '" + n + "' is not a CIDR block: " + cidr.error().message);
      }
      cfg.local_networks.add(*cidr);
    }
  }
  GET(domains, policy.strs("local_domains"));
  if (*domains) {
    for (std::size_t i = 0; i < (*domains)->size(); ++i) {
      auto d = lower((**domains)[i]);
      if (!d.empty() && d.back() == '.') d.pop_back();
      if (!valid_domain(d)) {
        return c.at(policy.element("local_domains", i),
                    "policy.local_domains: '" + d + "' is not a domain name");
      }
      cfg.local_domains.push_back(d);
    }
  }

  // [mailboxes]
  auto mailboxes = sec("mailboxes");
  GET(root_dir, mailboxes.str("root"));
  if (*root_dir) cfg.mailbox_root = c.resolve(**root_dir);
  if (!cfg.local_domains.empty() && cfg.mailbox_root.empty()) {
    return mailboxes.missing("root", root);
  }

  // [spool]
  auto spool = sec("spool");
  GET(spool_dir, spool.str("dir"));
  if (!*spool_dir || (*spool_dir)->empty()) return spool.missing("dir", root);
  cfg.spool_dir = c.resolve(**spool_dir);
  TRY(spool.boolean("fsync", cfg.spool_fsync));
  cfg.pidfile = *pidfile ? c.resolve(**pidfile) : cfg.spool_dir + "/relayscope.pid";

  // [delivery]
  auto delivery = sec("delivery");
  GET(smarthost, delivery.str("smarthost"));
  if (*smarthost) {
    auto a = parse_listen_address(**smarthost);
    if (!a) return c.at(delivery.node("smarthost"), "delivery.smarthost: " + a.error().message);
    cfg.delivery.smarthost = *a;
  }
  GET(dns, delivery.strs("dns"));
  if (*dns) {
    for (const auto& d : **dns) {
      auto a = parse_listen_address(d.find(':') == std::string::npos ? d + ":53" : d);
      if (!a) return c.at(delivery.node("dns"), "delivery.dns: " + a.error().message);
      cfg.delivery.dns.push_back(a->to_string());
    }
  }
  GET(retry, delivery.strs("retry"));
  if (*retry) {
    if ((*retry)->empty()) return c.at(delivery.node("retry"), "delivery.retry is empty");
    cfg.delivery.retry.clear();
    for (const auto& r : **retry) {
      auto d = parse_duration(r);
      if (!d || d->count() <= 0) {
        return c.at(delivery.node("retry"), "delivery.retry: '" + r + "' is not a duration");
      }
      cfg.delivery.retry.push_back(*d);
    }
  }
  TRY(delivery.duration("max_queue_time", cfg.delivery.max_queue_time, Millis(1)));
  GET(scope, delivery.strs("scope"));
  if (*scope) {
    for (const auto& s : **scope) {
      if (!Cidr::parse(s)) {
        return c.at(delivery.node("scope"), "delivery.scope: '" + s + "' is not a CIDR block");
      }
    }
    cfg.delivery.scope = **scope;
  }
  TRY(delivery.integer("port", cfg.delivery.port, 1, 65535));
  TRY(delivery.integer("concurrency", cfg.delivery.concurrency, 1, 10000));
  TRY(delivery.duration("connect_timeout", cfg.delivery.connect_timeout, Millis(1)));

  // [limits]
  auto limits = sec("limits");
  TRY(limits.integer("max_message_size", cfg.limits.max_message_size, 1024, std::int64_t(1) << 32));
  TRY(limits.integer("max_recipients", cfg.limits.max_recipients, 1, 100000));
  TRY(limits.integer("max_errors", cfg.limits.max_errors, 1, 1000));
  TRY(limits.integer("max_connections", cfg.limits.max_connections, 1, 1000000));
  TRY(limits.integer("max_connections_per_ip", cfg.limits.max_connections_per_ip, 1, 1000000));
  TRY(limits.integer("max_line_length", cfg.limits.max_line_length, 512, 65536));
  TRY(limits.integer("max_auth_failures", cfg.limits.max_auth_failures, 1, 100));

  // [timeouts]
  auto timeouts = sec("timeouts");
  TRY(timeouts.duration("command", cfg.timeouts.command, Millis(1)));
  TRY(timeouts.duration("idle", cfg.timeouts.idle, Millis(1)));
  TRY(timeouts.duration("data", cfg.timeouts.data, Millis(1)));
  TRY(timeouts.duration("greet_pause", cfg.timeouts.greet_pause));

  // [tls]
  auto tls = sec("tls");
  GET(cert, tls.str("cert"));
  GET(key, tls.str("key"));
  if (static_cast<bool>(*cert) != static_cast<bool>(*key)) {
    return c.at(tls.t, "tls needs both cert and key");
  }
  if (*cert) {
    cfg.tls_cert = c.resolve(**cert);
    cfg.tls_key = c.resolve(**key);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(cfg.tls_cert, ec)) {
      return c.at(tls.node("cert"), "tls.cert: no such file: " + cfg.tls_cert);
    }
    if (!std::filesystem::is_regular_file(cfg.tls_key, ec)) {
      return c.at(tls.node("key"), "tls.key: no such file: " + cfg.tls_key);
    }
  }

  // [auth]
  auto auth = sec("auth");
  GET(users, auth.str("users_file"));
  if (*users) {
    // Without [tls] the file names the local mailboxes only (issue 14:
    // known recipients): AUTH is offered only under TLS (check-config warns).
    cfg.users_file = c.resolve(**users);
  }
  TRY(auth.duration("failure_delay", cfg.auth_failure_delay));
  // Someone may relay (local networks, users): mail must have a way out.
  bool has_remote_route = cfg.delivery.smarthost || !cfg.delivery.dns.empty();
  if (!has_remote_route && (!cfg.local_networks.empty() || !cfg.users_file.empty())) {
    return c.at(delivery.t ? static_cast<const toml::node*>(delivery.t) : &root,
                "delivery needs a smarthost or dns servers: some clients may relay");
  }

  // [dnsbl]
  auto dnsbl = sec("dnsbl");
  GET(zones, dnsbl.strs("zones"));
  if (*zones) {
    for (auto z : **zones) {
      z = lower(z);
      if (!z.empty() && z.back() == '.') z.pop_back();
      if (!valid_domain(z)) return c.at(dnsbl.node("zones"), "dnsbl.zones: bad zone '" + z + "'");
      cfg.dnsbl_zones.push_back(z);
    }
  }
  GET(bl_dns, dnsbl.strs("dns"));
  if (*bl_dns) {
    for (const auto& d : **bl_dns) {
      auto a = parse_listen_address(d.find(':') == std::string::npos ? d + ":53" : d);
      if (!a) return c.at(dnsbl.node("dns"), "dnsbl.dns: " + a.error().message);
      cfg.dnsbl_dns.push_back(a->to_string());
    }
  }
  if (!cfg.dnsbl_zones.empty() && cfg.dnsbl_dns.empty()) {
    if (cfg.delivery.dns.empty()) return dnsbl.missing("dns", root);
    cfg.dnsbl_dns = cfg.delivery.dns;
  }
  TRY(dnsbl.duration("timeout", cfg.dnsbl_timeout, Millis(1)));

  // [log]
  auto log = sec("log");
  GET(level, log.str("level"));
  if (*level) {
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
    if (!levels.count(**level)) {
      return c.at(log.node("level"),
                  "log.level must be one of trace, debug, info, warn, error, off");
    }
    cfg.log_level = **level;
  }
  GET(file, log.str("file"));
  if (*file) cfg.log_file = c.resolve(**file);

  TRY(read_remote_access(c, root, cfg));
  GET(to, log.str("to"));
  if (*to) {
    if (**to != "stderr" && **to != "file" && **to != "syslog") {
      return c.at(log.node("to"), "log.to must be one of stderr, file, syslog");
    }
    cfg.log_to = **to;
  } else if (*file) {
    cfg.log_to = "file";  // a file alone, as before [log] to existed
  }
  if (cfg.log_to == "file" && cfg.log_file.empty()) return log.missing("file", root);
  if (cfg.log_to != "file" && *file) {
    return c.at(log.node("file"), "log.file is used only with log.to = \"file\"");
  }
  record_lines(root, cfg.lines);
#undef TRY
#undef GET
  return cfg;
}

}  // namespace

Expected<WindowSettings> parse_window_settings(const std::string& text, const std::string& path) {
  Ctx c{path};
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << path << ":" << e.source().begin.line << ": " << e.description();
    return make_error(msg.str());
  }
  // Only these two sections are read (and checked); see config.hpp.
  WindowSettings w;
  for (const char* name : {"spool", "pop_before_smtp"}) {
    const auto* n = root.get(name);
    if (n && !n->as_table()) return c.at(n, std::string("[") + name + "] must be a table");
  }
  if (const auto* t = root["pop_before_smtp"].as_table()) {
    for (const auto& [k, v] : *t) {
      auto key = std::string(k.str());
      if (!known_keys().at("pop_before_smtp").count(key)) {
        return c.at(&v, "unknown key pop_before_smtp." + key);
      }
    }
  }
  Section spool{c, "spool", root["spool"].as_table()};
  auto spool_dir = spool.str("dir");
  if (!spool_dir) return spool_dir.error();
  Section pop{c, "pop_before_smtp", root["pop_before_smtp"].as_table()};
  if (pop.node("window")) {
    Millis window{};
    if (auto s = pop.duration("window", window, Millis(1000)); !s) return s.error();
    w.window = window;
  }
  auto dir = pop.str("dir");
  if (!dir) return dir.error();
  if (*dir && !(*dir)->empty()) {
    w.dir = c.resolve(**dir);
  } else if (*spool_dir && !(*spool_dir)->empty()) {
    w.dir = c.resolve(**spool_dir) + "/windows";
  } else {
    return c.at(pop.t ? static_cast<const toml::node*>(pop.t) : &root,
                "pop_before_smtp.dir or spool.dir is required");
  }
  return w;
}

Expected<WindowSettings> load_window_settings(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_window_settings(ss.str(), path);
}

std::size_t Config::line_of(const std::string& key) const {
  if (auto it = lines.find(key); it != lines.end()) return it->second;
  auto dot = key.find('.');
  if (dot != std::string::npos) {
    if (auto it = lines.find(key.substr(0, dot)); it != lines.end()) return it->second;
  }
  return 1;
}

std::string ListenAddress::to_string() const {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

Expected<ListenAddress> parse_listen_address(const std::string& text) {
  auto a = mail::parse_addr_port(text);
  if (!a) return a.error();
  return ListenAddress{a->address.to_string(), *a->port};
}

Expected<Millis> parse_duration(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 12) return make_error("'" + text + "' is not a duration (e.g. 30s, 5m, 2h)");
  long long n = std::stoll(text.substr(0, i));
  auto unit = text.substr(i);
  long long per = 0;  // milliseconds per unit
  if (unit.empty() || unit == "s")
    per = 1000;
  else if (unit == "ms")
    per = 1;
  else if (unit == "m")
    per = 60 * 1000;
  else if (unit == "h")
    per = 3600 * 1000;
  else if (unit == "d")
    per = 86400 * 1000;
  else
    return make_error("'" + text + "': unknown unit '" + unit + "' (ms, s, m, h, d)");
  // Ten years is more than any timeout or queue lifetime needs, and keeps
  // every sum with a clock's time point (in nanoseconds) far from overflow;
  // the check is a division so that it cannot overflow itself.
  if (n > max_duration_ms / per) {
    return make_error("'" + text + "' is too long (at most 3650d)");
  }
  return Millis(n * per);
}

Expected<Config> parse_config(const std::string& text, const std::string& path) {
  Ctx c{path};
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << path << ":" << e.source().begin.line << ": " << e.description();
    return make_error(msg.str());
  }
  return read(c, root);
}

Expected<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace relayscope::server
