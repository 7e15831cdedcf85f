// The state behind `relayscope survey`'s options, and the steps of
// cmd_survey.cpp that declare them (survey_options.cpp) and check them
// (survey_checks.cpp), each in a file of its own.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "survey/runner.hpp"

namespace relayscope::cli {

struct SurveyArgs {
  survey::SurveyOptions options;
  std::string db;
  double timeout_seconds = 30;
  std::optional<std::int64_t> resume;
  std::optional<std::int64_t> join;
  bool prepare_only = false;
  std::vector<std::string> sources;
  std::string family = "4";
  double lease_seconds = 60;
  CLI::Option* helo_option = nullptr;      // given or not: a worker keeps the run's otherwise
  CLI::Option* greylist_option = nullptr;  // given or not: --resume keeps the run's otherwise
  std::string variants = "imc";
  bool no_data = false;
  bool quiet = false;
  std::string host_timeout = "15m";
  std::string greylist_retry = "6m";
  std::vector<std::string> excludes;  // --exclude: files or CIDRs, in the order given
  std::string jsonl;                  // --jsonl FILE|-
  std::string metrics;                // --metrics ADDR:PORT
  std::string processes = "auto";     // --processes N|auto
  bool probing_child = false;         // hidden: this is a child of --processes (prober_child.hpp)
};

// Declares the subcommand's options on `app`, bound to `a`.
void add_survey_options(CLI::App* app, SurveyArgs& a);

// Checks what the options say and completes a.options from it (timeouts,
// durations, family, sources, exclusions); a --join on SQLite becomes a
// --resume. exit_ok, or exit_usage after one line on standard error.
int check_survey_args(SurveyArgs& a);

// --processes: "auto" (as many as the open-files limit needs for the
// concurrency) or N; 0 on a usage error (printed).
std::size_t resolve_processes(const SurveyArgs& a);

}  // namespace relayscope::cli
