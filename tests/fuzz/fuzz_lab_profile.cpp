// Fuzzes the lab profile loader (profile.cpp, on toml++): a profile is a
// data file a user may write. Invariants: no exception escapes, an error
// names its source, and a profile that loads is as validated (the outcome
// groups' shares add up to 100, weights are positive, counts not negative).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "lab/profile.hpp"

using namespace relayscope::lab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  auto p = parse_profile(in, "fuzz.toml");
  if (!p) {
    FUZZ_CHECK(p.error().message.find("fuzz.toml") != std::string::npos);
    return 0;
  }
  FUZZ_CHECK(p->names >= 0 && p->unique_domains >= 0 && p->resolved_domains >= 0);
  double total = 0;
  for (const auto& g : p->groups) {
    FUZZ_CHECK(std::isfinite(g.share) && g.share >= 0);
    total += g.share;
    for (const auto& [b, w] : g.behaviours) FUZZ_CHECK(std::isfinite(w) && w >= 0);
  }
  FUZZ_CHECK(std::fabs(total - 100.0) <= 0.05 + 1e-9);  // the loader's own tolerance
  return 0;
}
