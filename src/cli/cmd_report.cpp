// relayscope report: placeholder until its issue lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace relayscope::cli {

Registered add_report(CLI::App& parent) {
  auto* app = parent.add_subcommand("report", "(not built yet)");
  app->allow_extras();
  return {app, [] {
            std::fprintf(stderr, "relayscope report: not built yet\n");
            return exit_failure;
          }};
}

}  // namespace relayscope::cli
