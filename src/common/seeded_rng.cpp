#include "common/seeded_rng.hpp"

namespace relayscope {

std::uint64_t fnv1a64(std::string_view data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

SeededRng::SeededRng(std::uint64_t seed, std::string_view stream)
    : state_(seed ^ (stream.empty() ? 0 : fnv1a64(stream))) {}

std::uint64_t SeededRng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t SeededRng::below(std::uint64_t bound) {
  if (bound <= 1) return 0;
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % bound);
  for (;;) {
    auto x = next();
    if (x < limit) return x % bound;
  }
}

double SeededRng::unit() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

}  // namespace relayscope
