// `--help` for every subcommand, as swaks' and nmap's read: a synopsis, the
// required options first, plain metavariables (N, FILE, ADDR:PORT, never
// CLI11's "UINT:INT in [1 - 65535]"), then examples and exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

namespace relayscope::cli {

// The formatter main() installs before adding the subcommands (they inherit it).
std::shared_ptr<CLI::Formatter> make_help_formatter();

// Synopsis (one or more lines), examples (indented lines) and exit codes of
// a subcommand; printed by --help around the options.
void describe(CLI::App* app, const std::string& synopsis, const std::string& examples,
              const std::string& exit_codes = "");

// The plain metavariable for a CLI11 type name ("UINT:INT in [1 - 65535]"
// -> "N", "TEXT:{list,flush}" -> "{list,flush}", "TEXT:FILE" -> "FILE").
std::string plain_metavar(const std::string& type_name);

}  // namespace relayscope::cli
