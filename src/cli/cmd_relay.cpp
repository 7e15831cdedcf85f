// relayscope relay --config FILE: the closed relay server (src/server/relay.hpp).
#include <cstdio>

#include "cli/commands.hpp"
#include "server/config.hpp"
#include "server/relay.hpp"

namespace relayscope::cli {

Registered add_relay(CLI::App& parent) {
  auto config = std::make_shared<std::string>();
  auto* app = parent.add_subcommand(
      "relay",
      "Run the closed relay server: relays only for local networks and authenticated users");
  app->add_option("--config", *config, "The relay's TOML configuration")->required();
  return {app, [config] {
            auto c = server::load_config(*config);
            if (!c) {
              std::fprintf(stderr, "relayscope relay: %s\n", c.error().message.c_str());
              return static_cast<int>(exit_usage);
            }
            return server::run_relay(*c);
          }};
}

}  // namespace relayscope::cli
