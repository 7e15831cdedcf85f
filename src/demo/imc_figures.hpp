// The IMC's own figures (report IMCR-013, data/imc-surveys.json), compiled
// into the binary so that the demo and the lab's profiles need no data
// directory at run time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::demo {

struct ImcRun {
  std::string label;  // "July 1999"
  std::string date;
  std::int64_t names = 0, unique_hosts = 0, resolved_hosts = 0, sampled = 0;
  std::map<std::string, std::int64_t> outcomes;  // CONNECT, EHLO, MAIL, TO, DATA, OK
  std::map<std::string, double> percent;
  std::int64_t quit_errors = 0, delivered = 0, bounced = 0;
};

// The three runs in order; parsed from the embedded JSON.
Expected<std::vector<ImcRun>> imc_runs();
Expected<ImcRun> imc_run(const std::string& label_or_date);

// The embedded JSON text itself.
const char* imc_surveys_json();

}  // namespace relayscope::demo
