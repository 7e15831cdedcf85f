// relayscope: a thin shell over the libraries; each subcommand is its own
// file. CLI11 turns usage errors into one line and exit status 2.
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/commands.hpp"
#include "cli/help.hpp"

int main(int argc, char** argv) {
  using namespace relayscope::cli;
  CLI::App app{"relayscope: measures and closes open mail relays", "relayscope"};
  app.require_subcommand(1);
  // Set before the subcommands are added: they inherit the formatter.
  app.formatter(make_help_formatter());
  describe(&app, "relayscope SUBCOMMAND [OPTIONS]   (relayscope SUBCOMMAND --help says more)",
           "  relayscope demo\n"
           "  relayscope survey --targets addresses.txt --dns 127.0.0.1:5353 --db results.db\n"
           "  relayscope report --db results.db\n"
           "  relayscope check-config /etc/relayscope/relay.toml\n",
           "0 success; 2 a usage or configuration error (one line naming it);\n"
           "1 any other failure; 130 a survey or demo stopped by Ctrl-C or SIGTERM.\n"
           "See relayscope(1) and relayscope.toml(5).");
  app.set_version_flag("--version", "relayscope 0.1.0");
  // A repeated option takes its last value, as in most Unix tools (list
  // options say TakeAll where they are declared).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  std::vector<Registered> commands{
      add_survey(app), add_collect(app),      add_report(app), add_relay(app), add_passwd(app),
      add_queue(app),  add_check_config(app), add_lab(app),    add_demo(app),  add_dnsbl(app)};
  commands.push_back(add_relay_window(app));
  commands.push_back(add_db(app));

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
