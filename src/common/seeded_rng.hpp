// The project's one seeded generator: SplitMix64 (Steele, Lea, Flood 2014)
// with its own bounded draw and shuffle, because <random>'s distributions and
// std::shuffle differ between standard libraries and the same seed must give
// the same sample, tie-break and lab on every machine. `stream` separates
// independent uses of one seed (an FNV-1a hash of it is mixed in). The
// survey's sample, the MX tie-break and the lab's plan all draw from it. The
// survey's sample, the MX tie-break and the lab's plan all draw from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace relayscope {

class SeededRng {
 public:
  explicit SeededRng(std::uint64_t seed, std::string_view stream = {});
  std::uint64_t next();
  // Uniform in [0, bound); 0 when bound <= 1. Rejection sampling: no bias.
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

// FNV-1a, 64 bits: a stable hash for seeding (not for security).
std::uint64_t fnv1a64(std::string_view data);

}  // namespace relayscope
