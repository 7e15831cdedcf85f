// Sampling noise of a share: the Wilson score interval (95% by default) of
// k successes in n trials, and whether another survey's figure lies inside
// it. Pure arithmetic, so the demo and `report --ci` say the same thing.
#pragma once

#include <cstdint>
#include <string>

namespace relayscope::report {

// z for a two-sided 95% interval.
inline constexpr double kZ95 = 1.959963984540054;

struct Interval {
  double low = 0;   // a proportion, 0..1
  double high = 0;  // a proportion, 0..1
};

// Wilson's score interval: unlike p +- z*sqrt(p(1-p)/n) it stays inside
// [0, 1] and is not empty at k = 0 or k = n, which matters for the rare
// outcomes (EHLO, MAIL, DATA) of a 500-host sample. n <= 0 gives [0, 1].
Interval wilson(std::int64_t k, std::int64_t n, double z = kZ95);

// Whether `share` (a proportion, 0..1) lies inside the interval, its ends
// included.
bool within(const Interval& i, double share);

// "3.9-8.0" in percent, one decimal each.
std::string format_interval(const Interval& i);

}  // namespace relayscope::report
