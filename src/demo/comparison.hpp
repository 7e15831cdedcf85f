// The demo's table: this run's funnel and outcomes beside the IMC's own
// figures, row by row, in the IMC's layout. Pure: figures in, text out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "demo/imc_figures.hpp"
#include "store/store.hpp"

namespace relayscope::demo {

struct RunFigures {
  store::Funnel funnel;
  std::map<std::string, std::int64_t> outcomes;
  std::optional<std::int64_t> delivered;  // when the collector ran
  std::optional<std::int64_t> bounced;
};

std::string comparison_table(const RunFigures& ours, const ImcRun& imc);

}  // namespace relayscope::demo
