// Step 3: a seeded, reproducible random sample (partial Fisher-Yates on the
// project's own generator, so the same seed gives the same sample on every
// machine).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace relayscope::survey {

// Indices of `count` items chosen from `population` (all of them when count
// >= population), sorted ascending.
std::vector<std::size_t> sample_indices(std::size_t population, std::size_t count,
                                        std::uint64_t seed);

}  // namespace relayscope::survey
