// See config_parts.hpp: which keys each section of the relay's
// configuration has, and the check that the file uses no other.
#include "server/config_parts.hpp"

namespace relayscope::server::config_parts {

namespace {

// Sections whose keys are names (aliases, users), not settings.
bool open_section(const std::string& name) {
  return name == "aliases" || name == "senders";
}

}  // namespace

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

}  // namespace relayscope::server::config_parts
