// The end-of-run summary of `relayscope survey` and its exit status.
#pragma once

#include <string>

#include "survey/runner.hpp"

namespace relayscope::cli {

// Prints the summary to standard output; gives the exit status.
int print_survey_summary(const survey::SurveySummary& summary, const std::string& db,
                         bool prepare_only);

}  // namespace relayscope::cli
