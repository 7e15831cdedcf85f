// relayscope dnsbl: placeholder until its issue lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace relayscope::cli {

Registered add_dnsbl(CLI::App& parent) {
  auto* app = parent.add_subcommand("dnsbl", "(not built yet)");
  app->allow_extras();
  return {app, [] {
            std::fprintf(stderr, "relayscope dnsbl: not built yet\n");
            return exit_failure;
          }};
}

}  // namespace relayscope::cli
