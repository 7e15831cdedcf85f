// See rng.hpp.
#include "lab/rng.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace relayscope::lab {

std::vector<std::int64_t> largest_remainder(const std::vector<double>& weights,
                                            std::int64_t total) {
  std::vector<std::int64_t> out(weights.size(), 0);
  double sum = 0;
  for (double w : weights) sum += std::max(0.0, w);
  if (total <= 0 || sum <= 0) return out;
  std::vector<double> rem(weights.size(), 0);
  std::int64_t given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    double exact = std::max(0.0, weights[i]) / sum * static_cast<double>(total);
    // Shares printed to one decimal make exact products like 0.232 * 3844
    // land a hair off the integer; round such noise away first.
    double fl = std::floor(exact + 1e-9);
    out[i] = static_cast<std::int64_t>(fl);
    rem[i] = exact - fl;
    given += out[i];
  }
  std::vector<std::size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rem[a] > rem[b]; });
  for (std::size_t k = 0; given < total && !order.empty(); k = (k + 1) % order.size()) {
    if (weights[order[k]] <= 0) continue;
    ++out[order[k]];
    ++given;
  }
  return out;
}

}  // namespace relayscope::lab
