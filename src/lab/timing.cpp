// See timing.hpp. The draws use the project's seeded generator and a
// Box-Muller normal of our own, not <random>'s distributions, whose output
// differs between standard libraries.
#include "lab/timing.hpp"

#include <algorithm>
#include <cmath>

#include "lab/rng.hpp"

namespace relayscope::lab {

namespace {

double standard_normal(Rng& rng) {
  // Box-Muller; 1 - unit() keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - rng.unit();
  const double u2 = rng.unit();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

int log_normal_ms(Rng& rng, double median, double sigma, int cap) {
  if (median <= 0) return 0;
  const double v = median * std::exp(sigma * standard_normal(rng));
  return static_cast<int>(std::clamp(v, 0.0, static_cast<double>(cap)));
}

bool chance(Rng& rng, double percent) {
  return percent > 0 && rng.unit() * 100.0 < percent;
}

}  // namespace

HostTiming draw_host_timing(const TimingProfile& t, std::uint64_t seed, std::uint64_t index,
                            bool greylistable) {
  HostTiming h;
  if (!t.enabled) return h;
  // One stream per host: a host's timing does not depend on any other's.
  Rng rng(seed ^ (index * 0x9E3779B97F4A7C15ULL), "host timing");
  h.rtt_ms = static_cast<std::uint16_t>(
      log_normal_ms(rng, t.rtt_median_ms, t.rtt_sigma, std::min(t.rtt_max_ms, 60000)));
  int greeting = 0;
  if (chance(rng, t.slow_greeting_share)) {
    const auto span = static_cast<std::uint64_t>(t.slow_greeting_max_ms - t.slow_greeting_min_ms);
    greeting = t.slow_greeting_min_ms + static_cast<int>(rng.below(span + 1));
  } else {
    greeting = log_normal_ms(rng, t.greeting_median_ms, t.greeting_sigma, t.greeting_max_ms);
  }
  h.greeting_ms = static_cast<std::uint16_t>(std::min(greeting, 60000));
  if (chance(rng, t.close_after_errors_share)) {
    h.close_after_errors = static_cast<std::uint8_t>(std::clamp(t.close_after_errors, 1, 255));
  }
  // Drawn for every host, used for some: the other draws stay the same
  // whatever the behaviour.
  const bool grey = chance(rng, t.greylist_share);
  h.greylist = greylistable && grey;
  return h;
}

Status check_timing(const TimingProfile& t) {
  auto bad = [](const char* key, const char* why) {
    return make_error(std::string("timing.") + key + " " + why);
  };
  for (auto [key, v] : {std::pair{"slow_greeting_share", t.slow_greeting_share},
                        {"close_after_errors_share", t.close_after_errors_share},
                        {"greylist_share", t.greylist_share}}) {
    if (v < 0 || v > 100) return bad(key, "must be a percent between 0 and 100");
  }
  for (auto [key, v] :
       {std::pair{"rtt_sigma", t.rtt_sigma}, {"greeting_sigma", t.greeting_sigma}}) {
    if (v < 0 || v > 4) return bad(key, "must be between 0 and 4");
  }
  for (auto [key, v] : {std::pair{"rtt_median_ms", t.rtt_median_ms},
                        {"greeting_median_ms", t.greeting_median_ms}}) {
    if (v < 0 || v > 60000) return bad(key, "must be between 0 and 60000");
  }
  if (t.slow_greeting_min_ms > t.slow_greeting_max_ms) {
    return bad("slow_greeting_min_ms", "exceeds timing.slow_greeting_max_ms");
  }
  if (t.close_after_errors_share > 0 && t.close_after_errors < 1) {
    return bad("close_after_errors", "must be at least 1 when close_after_errors_share is set");
  }
  return Ok{};
}

bool counts_towards_error_limit(TimingProfile::ErrorKind kind, int code) {
  if (code < 400 || code >= 600) return false;
  if (kind == TimingProfile::ErrorKind::any) return true;
  return (code / 10) % 10 == 0;  // x0z: syntax (RFC 5321 4.2.1)
}

}  // namespace relayscope::lab
