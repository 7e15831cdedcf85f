// relayscope collect: placeholder until its issue lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace relayscope::cli {

Registered add_collect(CLI::App& parent) {
  auto* app = parent.add_subcommand("collect", "(not built yet)");
  app->allow_extras();
  return {app, [] {
            std::fprintf(stderr, "relayscope collect: not built yet\n");
            return exit_failure;
          }};
}

}  // namespace relayscope::cli
