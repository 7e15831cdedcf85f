// relayscope: a thin shell over the libraries; each subcommand is its own
// file. CLI11 turns usage errors into one line and exit status 2.
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace relayscope::cli;
  CLI::App app{"relayscope: measures and closes open mail relays", "relayscope"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "relayscope 0.1.0");
  // A repeated option takes its last value, as in most Unix tools (list
  // options say TakeAll where they are declared).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  std::vector<Registered> commands{add_survey(app),       add_collect(app), add_report(app),
                                   add_relay(app),        add_passwd(app),  add_queue(app),
                                   add_check_config(app), add_lab(app),     add_demo(app),
                                   add_dnsbl(app),        add_db(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "relayscope: %s\n", e.what());
    return exit_usage;
  }
  try {
    for (auto& c : commands) {
      if (c.app->parsed()) return c.run();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relayscope: %s\n", e.what());
    return exit_failure;
  }
  return exit_usage;
}
