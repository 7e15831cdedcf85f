// relayscope passwd: placeholder until its issue lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace relayscope::cli {

Registered add_passwd(CLI::App& parent) {
  auto* app = parent.add_subcommand("passwd", "(not built yet)");
  app->allow_extras();
  return {app, [] {
            std::fprintf(stderr, "relayscope passwd: not built yet\n");
            return exit_failure;
          }};
}

}  // namespace relayscope::cli
