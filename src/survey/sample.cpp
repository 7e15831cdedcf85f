#include "survey/sample.hpp"

#include <algorithm>
#include <numeric>

#include "common/seeded_rng.hpp"

namespace relayscope::survey {

std::vector<std::size_t> sample_indices(std::size_t population, std::size_t count,
                                        std::uint64_t seed) {
  std::vector<std::size_t> idx(population);
  std::iota(idx.begin(), idx.end(), 0);
  count = std::min(count, population);
  SeededRng rng(seed, "sample");
  // Partial Fisher-Yates: the first `count` positions are the sample.
  for (std::size_t i = 0; i < count; ++i) {
    auto j = i + static_cast<std::size_t>(rng.below(population - i));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(count);
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace relayscope::survey
