// The lab's seeded draws: the project's generator, and proportional rounding
// of profile shares to host counts. One seed plans the same lab everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/seeded_rng.hpp"

namespace relayscope::lab {

// The project's seeded generator (common/seeded_rng.hpp) under the lab's name.
using Rng = relayscope::SeededRng;

// Largest-remainder (Hamilton) rounding: integer counts proportional to
// `weights` that add up to exactly `total`. Ties in the remainder go to the
// earlier weight, so the result depends on nothing but the inputs.
std::vector<std::int64_t> largest_remainder(const std::vector<double>& weights, std::int64_t total);

}  // namespace relayscope::lab
