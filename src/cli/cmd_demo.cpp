// relayscope demo: placeholder until its issue lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace relayscope::cli {

Registered add_demo(CLI::App& parent) {
  auto* app = parent.add_subcommand("demo", "(not built yet)");
  app->allow_extras();
  return {app, [] {
            std::fprintf(stderr, "relayscope demo: not built yet\n");
            return exit_failure;
          }};
}

}  // namespace relayscope::cli
