// See reload.hpp.
#include "server/reload.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "server/config_check.hpp"
#include "server/logging.hpp"

namespace relayscope::server {

namespace {

std::string listen_text(const std::vector<ListenAddress>& l) {
  std::string out;
  for (const auto& a : l) out += (out.empty() ? "" : " ") + a.to_string();
  return out;
}

std::string cidrs_text(const CidrSet& s) {
  std::string out;
  for (const auto& b : s.blocks()) out += (out.empty() ? "" : " ") + b.to_string();
  return out;
}

bool same_delivery(const DeliveryConfig& a, const DeliveryConfig& b) {
  auto host = [](const DeliveryConfig& d) { return d.smarthost ? d.smarthost->to_string() : ""; };
  return host(a) == host(b) && a.dns == b.dns && a.retry == b.retry &&
         a.max_queue_time == b.max_queue_time && a.scope == b.scope && a.port == b.port &&
         a.concurrency == b.concurrency && a.connect_timeout == b.connect_timeout;
}

bool same_limits(const Limits& a, const Limits& b) {
  return a.max_message_size == b.max_message_size && a.max_recipients == b.max_recipients &&
         a.max_errors == b.max_errors && a.max_connections == b.max_connections &&
         a.max_connections_per_ip == b.max_connections_per_ip &&
         a.max_line_length == b.max_line_length && a.max_auth_failures == b.max_auth_failures;
}

// Every listener's address, role, PROXY protocol and limits (issue 14).
std::string listeners_text(const std::vector<ListenerConfig>& ls) {
  std::string out;
  for (const auto& l : ls) {
    out += l.address.to_string() + " " + to_string(l.role) + " " +
           (l.proxy_protocol ? "proxy " + cidrs_text(l.trusted_proxies) : "direct") + " " +
           std::to_string(l.max_message_size) + " " + std::to_string(l.max_recipients) + ";";
  }
  return out;
}

bool same_timeouts(const Timeouts& a, const Timeouts& b) {
  return a.command == b.command && a.idle == b.idle && a.data == b.data &&
         a.greet_pause == b.greet_pause;
}

}  // namespace

std::vector<std::string> needs_restart(const Config& running, const Config& next, bool privileged) {
  std::vector<std::string> out;
  if (listen_text(running.listen) != listen_text(next.listen)) {
    std::string low;
    for (const auto& a : next.listen) {
      bool is_new =
          std::none_of(running.listen.begin(), running.listen.end(),
                       [&](const ListenAddress& r) { return r.to_string() == a.to_string(); });
      if (is_new && a.port < 1024 && !privileged) low += (low.empty() ? "" : " ") + a.to_string();
    }
    out.push_back("server.listen: " +
                  (low.empty()
                       ? std::string("listeners are bound at start-up")
                       : "new port below 1024 (" + low + ") needs root, which the relay gave up") +
                  "; still listening on " + listen_text(running.listen));
  }
  auto plain = [&](bool changed, const std::string& key) {
    if (changed) out.push_back(key + ": fixed at start-up");
  };
  plain(listen_text(running.listen) == listen_text(next.listen) &&
            listeners_text(running.listeners) != listeners_text(next.listeners),
        "listener");
  // The window's length is read by each `relay-window grant`; the relay
  // reads windows from the directory it started with.
  plain(running.pop_before_smtp.enabled() != next.pop_before_smtp.enabled() ||
            running.pop_before_smtp.dir != next.pop_before_smtp.dir,
        "pop_before_smtp");
  plain(running.hostname != next.hostname, "server.hostname");
  plain(running.user != next.user, "server.user");
  plain(running.pidfile != next.pidfile, "server.pidfile");
  plain(running.mailbox_root != next.mailbox_root, "mailboxes.root");
  plain(running.spool_dir != next.spool_dir || running.spool_fsync != next.spool_fsync, "spool");
  plain(!same_delivery(running.delivery, next.delivery), "delivery");
  plain(!same_limits(running.limits, next.limits), "limits");
  plain(!same_timeouts(running.timeouts, next.timeouts), "timeouts");
  if (running.tls_cert != next.tls_cert || running.tls_key != next.tls_key) {
    out.push_back(
        "tls: the certificate and key are loaded at start-up (the key may be readable "
        "by root only)");
  }
  if (running.users_file.empty() != next.users_file.empty()) {
    out.push_back("auth.users_file: turning AUTH on or off");
  } else if (running.users_file != next.users_file) {
    out.push_back("auth.users_file: another file (the running one is re-read)");
  }
  plain(running.auth_failure_delay != next.auth_failure_delay, "auth.failure_delay");
  plain(running.dnsbl_zones != next.dnsbl_zones || running.dnsbl_dns != next.dnsbl_dns ||
            running.dnsbl_timeout != next.dnsbl_timeout,
        "dnsbl");
  return out;
}

bool reload_config(Reloadable& r) {
  const auto& path = r.current.path;
  spdlog::info("reload: reading {}", path);
  auto next = load_config(path);
  if (!next) {
    spdlog::error("reload: {}; the running configuration is kept", next.error().message);
    return false;
  }
  auto report = check_for_reload(*next);
  for (const auto& w : report.warnings) spdlog::warn("reload: {}", w);
  if (!report.ok()) {
    for (const auto& e : report.errors) spdlog::error("reload: {}", e);
    spdlog::error("reload: refused; the running configuration is kept");
    return false;
  }
  // Read everything first, then apply everything: nothing is half applied.
  std::shared_ptr<const UsersFile> users;
  if (r.replace_users && !r.current.users_file.empty()) {
    auto u = UsersFile::load(r.current.users_file);
    if (!u) {
      spdlog::error("reload: users file {} not re-read: {}; the running configuration is kept",
                    r.current.users_file, u.error().message);
      return false;
    }
    users = std::make_shared<const UsersFile>(std::move(*u));
  }
  for (const auto& why : needs_restart(r.current, *next, ::geteuid() == 0)) {
    spdlog::warn("reload: {}: needs a restart; kept as it was", why);
  }
  if (next->log_to != r.current.log_to || next->log_file != r.current.log_file ||
      next->log_level != r.current.log_level || next->log_to == "file") {
    // A file is always reopened: logrotate moved the old one away.
    if (auto s = setup_logging(next->log_level, next->log_to, next->log_file); !s) {
      spdlog::error("reload: {}; logging as before", s.error().message);
    } else {
      r.current.log_level = next->log_level;
      r.current.log_to = next->log_to;
      r.current.log_file = next->log_file;
    }
  }
  r.policy = RelayPolicy(next->local_networks, next->local_domains);
  r.current.local_networks = next->local_networks;
  r.current.local_domains = next->local_domains;
  // Issue 14's tables (the relay applies them with RelayRules::replace).
  r.current.aliases = next->aliases;
  r.current.senders = next->senders;
  r.current.rate_limits = next->rate_limits;
  if (users) {
    auto n = users->size();
    r.replace_users(std::move(users));
    spdlog::info("reload: users file {} re-read: {} user{}", r.current.users_file, n,
                 n == 1 ? "" : "s");
  }
  spdlog::info("reload: done (local_networks: {})", cidrs_text(r.current.local_networks));
  return true;
}

}  // namespace relayscope::server
