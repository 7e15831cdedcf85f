// See wilson.hpp.
#include "report/wilson.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace relayscope::report {

Interval wilson(std::int64_t k, std::int64_t n, double z) {
  if (n <= 0) return {0.0, 1.0};
  k = std::clamp<std::int64_t>(k, 0, n);
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn;
  const double z2 = z * z;
  const double denom = 1.0 + z2 / nn;
  const double centre = (p + z2 / (2.0 * nn)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
  // At k = 0 (k = n) the low (high) end is exactly 0 (1); say so rather
  // than leave a rounding residue.
  double low = k == 0 ? 0.0 : std::max(0.0, centre - half);
  double high = k == n ? 1.0 : std::min(1.0, centre + half);
  return {low, high};
}

bool within(const Interval& i, double share) {
  return share >= i.low && share <= i.high;
}

std::string format_interval(const Interval& i) {
  return fmt::format("{:.1f}-{:.1f}", i.low * 100.0, i.high * 100.0);
}

}  // namespace relayscope::report
