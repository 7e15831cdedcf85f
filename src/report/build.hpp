// From the results database to the report model: the one part of src/report
// that reads a Store. Also resolves `--runs` (all, the latest, or ids).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "report/model.hpp"
#include "store/store.hpp"

namespace relayscope::report {

// spec: "all" (every run, oldest first), "latest" or "" (the most recent
// run), or "ID,ID,..." (in the order given). An unknown id is an error that
// names the ids there are. An empty database selects nothing.
Expected<std::vector<std::int64_t>> select_runs(store::Store& store, const std::string& spec);

// Parses "ID,ID,..." only (no store): errors name the bad item.
Expected<std::vector<std::int64_t>> parse_run_ids(const std::string& spec);

Expected<ReportData> build_report(store::Store& store, const std::vector<std::int64_t>& run_ids);

// One row per probed host of the runs, run by run.
Expected<std::vector<store::HostRow>> build_host_rows(store::Store& store,
                                                      const std::vector<std::int64_t>& run_ids,
                                                      bool with_transcripts = false);

}  // namespace relayscope::report
