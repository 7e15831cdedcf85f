// relayscope check-config FILE: validates the relay's configuration; prints
// "ok", or one line "FILE:LINE: what is wrong" and exits 2.
#include <cstdio>

#include "cli/commands.hpp"
#include "server/config.hpp"

namespace relayscope::cli {

Registered add_check_config(CLI::App& parent) {
  auto file = std::make_shared<std::string>();
  auto* app = parent.add_subcommand("check-config", "Check a relay configuration file");
  app->add_option("FILE", *file, "The relay's TOML configuration")->required();
  return {app, [file] {
            auto c = server::load_config(*file);
            if (!c) {
              std::fprintf(stderr, "%s\n", c.error().message.c_str());
              return static_cast<int>(exit_usage);
            }
            std::printf("ok\n");
            return static_cast<int>(exit_ok);
          }};
}

}  // namespace relayscope::cli
