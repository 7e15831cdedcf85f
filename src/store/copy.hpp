// Copies runs between two stores of any backends (`relayscope db copy`): a
// lab run in SQLite published in PostgreSQL, or a PostgreSQL run handed
// around as one SQLite file. Runs get new ids in the target (printed); their
// funnel, resolutions, hosts, probes with transcripts and variants, and the
// collector's arrivals for their tokens come along. Leases do not.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/expected.hpp"
#include "store/store.hpp"

namespace relayscope::store {

struct CopyResult {
  std::vector<std::pair<std::int64_t, std::int64_t>> runs;  // source id -> target id
  std::int64_t hosts = 0;
  std::int64_t probes = 0;
  std::int64_t arrivals = 0;
};

// runs: the ids to copy; empty: every run, and every arrival (unmatched ones too).
Expected<CopyResult> copy_runs(Store& from, Store& to, const std::vector<std::int64_t>& runs);

}  // namespace relayscope::store
