// See config_parts.hpp: the relay configuration's sections from [server]
// to [log], read in order (each may use those before it), then issue 14's
// (config_access.cpp) and the lines of every key.
#include <filesystem>
#include <set>

#include "common/ascii.hpp"
#include "server/config_parts.hpp"

namespace relayscope::server::config_parts {

using ascii::lower;  // one ASCII case helper (common/ascii.hpp)

Expected<Config> read_sections(const Ctx& c, const toml::table& root) {
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

}  // namespace relayscope::server::config_parts
