// relayscope check-config FILE: the relay's own start-up check, minus
// binding (src/server/config_check.hpp). Prints "ok" (and any warnings, on
// standard error, exit 0), or every error as "FILE:LINE: what is wrong"
// (exit 2).
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "server/config.hpp"
#include "server/config_check.hpp"

namespace relayscope::cli {

Registered add_check_config(CLI::App& parent) {
  auto file = std::make_shared<std::string>();
  auto* app = parent.add_subcommand(
      "check-config", "Check a relay configuration as `relay` would at start-up, without binding");
  app->add_option("FILE", *file, "The relay's TOML configuration")->required();
  describe(app, "relayscope check-config FILE",
           "  relayscope check-config /etc/relayscope/relay.toml\n",
           "0 the relay would start (warnings, if any, on standard error);\n"
           "2 it would refuse: each error as FILE:LINE: what is wrong");
  return {app, [file] {
            auto c = server::load_config(*file);
            if (!c) {
              std::fprintf(stderr, "%s\n", c.error().message.c_str());
              return static_cast<int>(exit_usage);
            }
            auto report = server::check_config(*c);
            for (const auto& w : report.warnings) std::fprintf(stderr, "%s\n", w.c_str());
            for (const auto& e : report.errors) std::fprintf(stderr, "%s\n", e.c_str());
            if (!report.ok()) return static_cast<int>(exit_usage);
            std::printf("ok\n");
            return static_cast<int>(exit_ok);
          }};
}

}  // namespace relayscope::cli
