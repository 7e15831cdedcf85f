// relayscope check-config: placeholder until its issue lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace relayscope::cli {

Registered add_check_config(CLI::App& parent) {
  auto* app = parent.add_subcommand("check-config", "(not built yet)");
  app->allow_extras();
  return {app, [] {
            std::fprintf(stderr, "relayscope check-config: not built yet\n");
            return exit_failure;
          }};
}

}  // namespace relayscope::cli
