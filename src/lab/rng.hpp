// The lab's seeded generator: splitmix64, with its own bounded draw and
// shuffle, so that one seed plans the same lab on every machine (<random>'s
// distributions and std::shuffle are implementation-defined).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace relayscope::lab {

class Rng {
 public:
  // `stream` separates independent uses of one seed (behaviours, names...).
  explicit Rng(std::uint64_t seed, std::string_view stream = {});
  std::uint64_t next();
  // Uniform in [0, bound), bound > 0; rejection sampling, no modulo bias.
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [0, 1).
  double unit();

  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      std::swap(v[i - 1], v[static_cast<std::size_t>(below(i))]);
    }
  }

 private:
  std::uint64_t state_;
};

// Largest-remainder (Hamilton) rounding: integer counts proportional to
// `weights` that add up to exactly `total`. Ties in the remainder go to the
// earlier weight, so the result depends on nothing but the inputs.
std::vector<std::int64_t> largest_remainder(const std::vector<double>& weights, std::int64_t total);

}  // namespace relayscope::lab
