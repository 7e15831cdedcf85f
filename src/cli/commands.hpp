// The subcommands of `relayscope`, one file each (cmd_*.cpp). Each adds its
// CLI11 subcommand with options bound to its own state and returns the
// function that runs it. Exit status (DESIGN.md contract): 0 success, 2 usage
// or configuration error (one clear line), 1 other failure; 130 (the shell's
// 128 + SIGINT) for a survey or demo stopped by a signal.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace relayscope::cli {

enum ExitCode { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_interrupted = 130 };

struct Registered {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Registered add_survey(CLI::App& parent);
Registered add_collect(CLI::App& parent);
Registered add_report(CLI::App& parent);
Registered add_relay(CLI::App& parent);
Registered add_passwd(CLI::App& parent);
Registered add_queue(CLI::App& parent);
Registered add_check_config(CLI::App& parent);
Registered add_lab(CLI::App& parent);
Registered add_demo(CLI::App& parent);
Registered add_dnsbl(CLI::App& parent);
Registered add_relay_window(CLI::App& parent);
Registered add_db(CLI::App& parent);

}  // namespace relayscope::cli
