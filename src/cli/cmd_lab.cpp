// relayscope lab: placeholder until its issue lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace relayscope::cli {

Registered add_lab(CLI::App& parent) {
  auto* app = parent.add_subcommand("lab", "(not built yet)");
  app->allow_extras();
  return {app, [] {
            std::fprintf(stderr, "relayscope lab: not built yet\n");
            return exit_failure;
          }};
}

}  // namespace relayscope::cli
