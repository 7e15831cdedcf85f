// relayscope queue: placeholder until its issue lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace relayscope::cli {

Registered add_queue(CLI::App& parent) {
  auto* app = parent.add_subcommand("queue", "(not built yet)");
  app->allow_extras();
  return {app, [] {
            std::fprintf(stderr, "relayscope queue: not built yet\n");
            return exit_failure;
          }};
}

}  // namespace relayscope::cli
