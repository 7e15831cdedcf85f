// relayscope relay --config FILE: the closed relay server (src/server/relay.hpp).
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "metrics/server.hpp"
#include "server/config.hpp"
#include "server/relay.hpp"
#include "server/relay_metrics.hpp"

namespace relayscope::cli {

Registered add_relay(CLI::App& parent) {
  auto config = std::make_shared<std::string>();
  auto* app = parent.add_subcommand(
      "relay",
      "Run the closed relay server: relays only for local networks and authenticated users");
  app->add_option("--config", *config, "The relay's TOML configuration (relayscope.toml(5))")
      ->required()
      ->type_name("FILE");
  auto metrics_at = std::make_shared<std::string>();
  app->add_option("--metrics", *metrics_at,
                  "Serve Prometheus metrics (GET /metrics) on ADDR:PORT: sessions, messages "
                  "accepted and refused by reason, queue size, deliveries by result")
      ->type_name("ADDR:PORT");
  describe(app, "relayscope relay --config FILE [--metrics ADDR:PORT]",
           "  relayscope check-config /etc/relayscope/relay.toml && \\\n"
           "    relayscope relay --config /etc/relayscope/relay.toml\n"
           "  kill -HUP $(cat /var/spool/relayscope/relayscope.pid)    # reload\n");
  app->footer(
      "Signals:\n"
      "  SIGTERM, SIGINT  stop: no new sessions; what was accepted stays in the spool\n"
      "  SIGHUP           re-read the whole configuration and apply it at once (a bad file\n"
      "                   is logged and the running one kept; listeners, TLS, spool and\n"
      "                   limits need a restart and say so), reopen the log file, re-read\n"
      "                   the users file as the unprivileged user\n"
      "  SIGUSR1          try every queued message now (relayscope queue flush)\n"
      "Pid file: [server] pidfile, default <spool>/relayscope.pid, locked while running.\n"
      "Logs: [log] to = \"stderr\" (default), \"file\" (with file = PATH) or \"syslog\"\n"
      "  (facility mail; the journal under systemd). One Postfix-like line per event.\n"
      "Privileges: started as root, it binds, then drops to [server] user; without\n"
      "  one it warns and keeps root.");
  return {app, [config, metrics_at] {
            auto c = server::load_config(*config);
            if (!c) {
              std::fprintf(stderr, "relayscope relay: %s\n", c.error().message.c_str());
              return static_cast<int>(exit_usage);
            }
            std::unique_ptr<metrics::BackgroundServer> endpoint;
            if (!metrics_at->empty()) {
              if (auto ep = metrics::parse_listen(*metrics_at); !ep) {
                std::fprintf(stderr, "relayscope relay: %s\n", ep.error().message.c_str());
                return static_cast<int>(exit_usage);
              }
              server::relay_metrics::register_all();
              auto m = metrics::BackgroundServer::start(*metrics_at, metrics::default_registry());
              if (!m) {
                std::fprintf(stderr, "relayscope relay: %s\n", m.error().message.c_str());
                return static_cast<int>(exit_failure);
              }
              endpoint = std::move(*m);
            }
            return server::run_relay(*c);
          }};
}

}  // namespace relayscope::cli
