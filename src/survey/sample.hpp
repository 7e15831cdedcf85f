// Step 3: a seeded, reproducible random sample. The algorithm is written out
// (SplitMix64 + Fisher-Yates with rejection) rather than left to
// std::shuffle, whose results differ between standard libraries: the same
// seed must give the same sample on every machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace relayscope::survey {

class SeededRng {
 public:
  explicit SeededRng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform in [0, bound), bound > 0, without modulo bias.
  std::uint64_t below(std::uint64_t bound);

 private:
  std::uint64_t state_;
};

// Indices of `count` items chosen from `population` (all of them, in a
// shuffled order, when count >= population), sorted ascending.
std::vector<std::size_t> sample_indices(std::size_t population, std::size_t count,
                                        std::uint64_t seed);

// A stable 64-bit hash of a string (FNV-1a), to derive per-item seeds.
std::uint64_t stable_hash(const void* data, std::size_t size, std::uint64_t basis = 0);

}  // namespace relayscope::survey
