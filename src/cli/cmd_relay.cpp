// relayscope relay: placeholder until its issue lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace relayscope::cli {

Registered add_relay(CLI::App& parent) {
  auto* app = parent.add_subcommand("relay", "(not built yet)");
  app->allow_extras();
  return {app, [] {
            std::fprintf(stderr, "relayscope relay: not built yet\n");
            return exit_failure;
          }};
}

}  // namespace relayscope::cli
