// relayscope relay --config FILE: the closed relay server (src/server/relay.hpp).
#include <cstdio>

#include "cli/commands.hpp"
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
  app->add_option("--config", *config, "The relay's TOML configuration")->required();
  auto metrics_at = std::make_shared<std::string>();
  app->add_option("--metrics", *metrics_at,
                  "Serve Prometheus metrics (GET /metrics) on ADDR:PORT: sessions, messages "
                  "accepted and refused by reason, queue size, deliveries by result");
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
