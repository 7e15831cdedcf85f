// See relay.hpp. Threads: one network thread (asio) for sessions, the queue
// manager and outbound delivery; a worker pool for fsync/rename/Maildir
// writes (group commit); one more worker for argon2id checks.
#include "server/relay.hpp"

#include <spdlog/spdlog.h>

#include <asio/ssl.hpp>
#include <cstdio>
#include <deque>
#include <filesystem>

#include "dns/resolver.hpp"
#include "net/scope_guard.hpp"
#include "server/config_check.hpp"
#include "server/dnsbl_check.hpp"
#include "server/logging.hpp"
#include "server/pidfile.hpp"
#include "server/privileges.hpp"
#include "server/queue_admin.hpp"
#include "server/queue_manager.hpp"
#include "server/relay_parts.hpp"
#include "server/relay_windows.hpp"
#include "server/reload.hpp"
#include "server/spool.hpp"
#include "server/users_file.hpp"
#include "server/worker.hpp"
#include "smtpd/auth_guard.hpp"
#include "smtpd/listener.hpp"

namespace relayscope::server {

namespace {

Expected<std::unique_ptr<asio::ssl::context>> load_tls(const Config& c) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  std::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  ctx->use_certificate_chain_file(c.tls_cert, ec);
  if (ec) return make_error("tls.cert " + c.tls_cert + ": " + ec.message());
  ctx->use_private_key_file(c.tls_key, asio::ssl::context::pem, ec);
  if (ec) return make_error("tls.key " + c.tls_key + ": " + ec.message());
  return ctx;
}

Expected<std::unique_ptr<dns::Resolver>> make_resolver(asio::any_io_executor ex,
                                                       const std::vector<std::string>& servers,
                                                       std::chrono::milliseconds timeout) {
  dns::ResolverConfig rc;
  rc.servers = servers;
  rc.timeout = timeout;
  auto r = dns::Resolver::create(ex, std::move(rc));
  if (!r) return r.error();
  return std::make_unique<dns::Resolver>(std::move(*r));
}

}  // namespace

int run_relay(const Config& start_config) {
  // What runs; SIGHUP replaces the parts that may change live (reload.hpp).
  Config running = start_config;
  const Config& config = running;
  if (auto s = setup_logging(config.log_level, config.log_to, config.log_file); !s) {
    std::fprintf(stderr, "relayscope relay: %s\n", s.error().message.c_str());
    return 2;
  }
  auto fail = [](int code, const std::string& what) {
    spdlog::error("{}", what);
    std::fprintf(stderr, "relayscope relay: %s\n", what.c_str());
    return code;
  };
  // The same check as `relayscope check-config` (config_check.hpp).
  auto report = check_config(config);
  for (const auto& w : report.warnings) spdlog::warn("{}", w);
  if (!report.ok()) {
    for (std::size_t i = 0; i + 1 < report.errors.size(); ++i)
      spdlog::error("{}", report.errors[i]);
    return fail(2, report.errors.back());
  }
  std::error_code ec;
  std::filesystem::create_directories(config.spool_dir, ec);
  if (ec) return fail(1, "cannot create the spool " + config.spool_dir + ": " + ec.message());
  auto pidfile = PidFile::acquire(config.pidfile);
  if (!pidfile) return fail(1, pidfile.error().message);

  std::unique_ptr<asio::ssl::context> tls;
  if (config.tls()) {
    auto t = load_tls(config);
    if (!t) return fail(2, t.error().message);
    tls = std::move(*t);
  }
  std::shared_ptr<const UsersFile> users;
  if (!config.users_file.empty()) {
    auto u = UsersFile::load(config.users_file);
    if (!u) return fail(2, u.error().message);
    users = std::make_shared<const UsersFile>(std::move(*u));
  }
  if (!config.mailbox_root.empty()) {
    std::filesystem::create_directories(config.mailbox_root, ec);
    if (ec) return fail(1, "cannot create " + config.mailbox_root + ": " + ec.message());
  }

  asio::io_context io(1);
  auto settings = session_settings(config);
  settings.tls = tls.get();
  RelayPolicy policy(config.local_networks, config.local_domains);

  // The listener needs the policy and sink objects, which need the queue:
  // build them first, bind now, start accepting last.
  Worker worker(4, config.spool_fsync);
  Worker auth_worker(1, false);
  auto spool = Spool::open(config.spool_dir, worker);
  if (!spool) return fail(1, spool.error().message);

  std::unique_ptr<dns::Resolver> resolver;
  if (!config.delivery.smarthost && !config.delivery.dns.empty()) {
    auto r = make_resolver(io.get_executor(), config.delivery.dns, std::chrono::seconds(5));
    if (!r) return fail(2, "delivery.dns: " + r.error().message);
    resolver = std::move(*r);
  }
  std::unique_ptr<dns::Resolver> bl_resolver;
  std::unique_ptr<DnsblCheck> dnsbl;
  if (!config.dnsbl_zones.empty()) {
    auto r = make_resolver(io.get_executor(), config.dnsbl_dns, config.dnsbl_timeout);
    if (!r) return fail(2, "dnsbl.dns: " + r.error().message);
    bl_resolver = std::move(*r);
    dnsbl = std::make_unique<DnsblCheck>(config.dnsbl_zones, *bl_resolver);
  }
  auto scope = net::ScopeGuard::from_strings(config.delivery.scope);
  if (!scope) return fail(2, "delivery.scope: " + scope.error().message);

  QueueSettings qs{config.hostname, config.mailbox_root, config.delivery};
  QueueManager queue(io.get_executor(), qs, **spool, worker, policy, resolver.get(), *scope);
  // Issue 14: known recipients, senders bound to logins, limits (relay_rules.hpp).
  RelayRules rules(policy, config, users ? users->names() : std::vector<std::string>{});
  RelaySessionPolicy session_policy(policy, dnsbl.get(), &rules);
  SpoolSink spool_sink(config.hostname, **spool, queue);
  RulesSink sink(spool_sink, rules);
  std::unique_ptr<UsersAuthenticator> auth;
  if (users) {
    auth = std::make_unique<UsersAuthenticator>(users, auth_worker);
    settings.auth = auth.get();
  }
  // AUTH failures per client address across sessions (Postfix's anvil).
  smtpd::AuthGuard auth_guard(10, std::chrono::minutes(10));
  settings.auth_guard = &auth_guard;
  // POP-before-SMTP windows (`relay-window grant`), read as they come.
  std::unique_ptr<RelayWindows> windows;
  if (config.pop_before_smtp.enabled()) {
    windows = std::make_unique<RelayWindows>(config.pop_before_smtp.dir);
    session_policy.set_windows(windows.get());
  }
  smtpd::Listener listener(io.get_executor(), settings, session_policy, sink,
                           config.limits.max_connections, config.limits.max_connections_per_ip);
  // One set of settings per listener (its role and limits); deques keep
  // their addresses while growing.
  std::deque<smtpd::SessionSettings> per_listener;
  std::deque<smtpd::ProxySettings> proxies;
  for (const auto& l : config.listeners) {
    per_listener.push_back(listener_settings(settings, l));
    const smtpd::ProxySettings* proxy = nullptr;
    if (l.proxy_protocol) {
      proxies.push_back(smtpd::ProxySettings{l.trusted_proxies});
      proxy = &proxies.back();
    }
    auto bound = listener.bind(l.address.address, l.address.port, &per_listener.back(), proxy);
    if (!bound) return fail(1, bound.error().message);
  }
  raise_file_limit();
  // The log file too: SIGHUP reopens it as the user.
  std::string own_log = config.log_to == "file" ? config.log_file : "";
  if (auto s = drop_privileges(config.user, {config.spool_dir, config.mailbox_root, own_log}); !s) {
    return fail(1, s.error().message);
  }

  std::size_t removed_tmp = 0;
  auto recovered = (*spool)->recover(removed_tmp);
  if (!recovered) return fail(1, "spool recovery: " + recovered.error().message);
  if (removed_tmp) spdlog::info("spool: removed {} half-written messages from tmp/", removed_tmp);
  spdlog::info("spool: {} messages in the queue", recovered->size());
  queue.start();
  for (const auto& e : *recovered) queue.add(e);

  asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  stop_signals.async_wait([&](const std::error_code& e, int sig) {
    if (e) return;
    spdlog::info("signal {}: stopping", sig);
    listener.stop();
    queue.stop();
    io.stop();
  });
  asio::signal_set flush_signal(io, SIGUSR1);
  asio::signal_set reload_signal(io, SIGHUP);
  std::function<void()> wait_flush = [&] {
    flush_signal.async_wait([&](const std::error_code& e, int) {
      if (e) return;
      // Messages put back by `relayscope queue release` join the queue
      // (marked in released/; never a message a session is storing now).
      auto released = take_released(config.spool_dir);
      if (!released.empty()) {
        if (auto listed = Spool::list(config.spool_dir)) {
          for (const auto& entry : *listed) {
            if (released.count(entry.envelope.id) && !queue.has(entry.envelope.id)) {
              spdlog::info("{}: released from hold", entry.envelope.id);
              queue.add(entry);
            }
          }
        }
      }
      queue.flush();
      wait_flush();
    });
  };
  std::function<void()> wait_reload = [&] {
    reload_signal.async_wait([&](const std::error_code& e, int) {
      if (e) return;
      Reloadable live{running, policy, nullptr};
      if (auth) {
        live.replace_users = [&](std::shared_ptr<const UsersFile> u) {
          auth->replace(u);
          users = u;
        };
      }
      if (reload_config(live))
        rules.replace(running, users ? users->names() : std::vector<std::string>{});
      wait_reload();
    });
  };
  wait_flush();
  wait_reload();

  listener.start();
  std::string where;
  auto bound = listener.endpoints();
  for (std::size_t i = 0; i < bound.size(); ++i) {
    where += (where.empty() ? "" : " ") + bound[i];
    if (i < config.listeners.size() && config.listeners[i].role != ListenerRole::mx) {
      where += std::string(" (") + to_string(config.listeners[i].role) + ")";
    }
  }
  spdlog::info("relayscope relay {} listening on {}", config.hostname, where);
  std::printf("relayscope relay: listening on %s\n", where.c_str());
  std::fflush(stdout);
  io.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace relayscope::server
