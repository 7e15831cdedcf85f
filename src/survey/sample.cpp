#include "survey/sample.hpp"

#include <algorithm>
#include <numeric>

namespace relayscope::survey {

std::uint64_t SeededRng::next() {
  // SplitMix64 (Steele, Lea, Flood 2014).
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t SeededRng::below(std::uint64_t bound) {
  std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    auto v = next();
    if (v < limit) return v % bound;
  }
}

std::vector<std::size_t> sample_indices(std::size_t population, std::size_t count,
                                        std::uint64_t seed) {
  std::vector<std::size_t> idx(population);
  std::iota(idx.begin(), idx.end(), 0);
  count = std::min(count, population);
  SeededRng rng(seed);
  // Partial Fisher-Yates: the first `count` positions are the sample.
  for (std::size_t i = 0; i < count; ++i) {
    auto j = i + static_cast<std::size_t>(rng.below(population - i));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(count);
  std::sort(idx.begin(), idx.end());
  return idx;
}

std::uint64_t stable_hash(const void* data, std::size_t size, std::uint64_t basis) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ basis;
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace relayscope::survey
