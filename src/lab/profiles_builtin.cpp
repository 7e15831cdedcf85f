// See profiles_builtin.hpp. The texts are generated from data/profiles/*.toml.
#include "lab/profiles_builtin.hpp"

#include <array>

extern const char relayscope_lab_profile_imc_1998_01[];
extern const char relayscope_lab_profile_imc_1998_07[];
extern const char relayscope_lab_profile_imc_1999_07[];
extern const char relayscope_lab_profile_modern[];
extern const char relayscope_lab_profile_hostile[];
extern const char relayscope_lab_profile_internet[];

namespace relayscope::lab {

std::span<const BuiltinProfile> builtin_profiles() {
  static const std::array<BuiltinProfile, 6> profiles{{
      {"imc-1998-01", relayscope_lab_profile_imc_1998_01},
      {"imc-1998-07", relayscope_lab_profile_imc_1998_07},
      {"imc-1999-07", relayscope_lab_profile_imc_1999_07},
      {"modern", relayscope_lab_profile_modern},
      {"hostile", relayscope_lab_profile_hostile},
      {"internet", relayscope_lab_profile_internet},
  }};
  return profiles;
}

}  // namespace relayscope::lab
