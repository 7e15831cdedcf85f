// The demo's table: this run's funnel and outcomes beside the IMC's own
// figures, row by row, in the IMC's layout, each share with its 95% Wilson
// interval and whether the IMC's figure lies inside it; then what each
// response means and why delivered + bounced falls short of OK. Pure:
// figures in, text out.
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

// One line on what a response of the IMC's table means ("" for another).
std::string outcome_meaning(const std::string& outcome);

// Whether the IMC's share of `outcome` lies inside our share's 95% Wilson
// interval: "within sampling noise" or "outside: a real difference".
std::string noise_verdict(std::int64_t ours, std::int64_t our_base, std::int64_t imc,
                          std::int64_t imc_base);

}  // namespace relayscope::demo
