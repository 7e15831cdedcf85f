// The profiles of data/profiles compiled into the binary (cmake
// relayscope_embed), the last place find_profile() looks: an installed
// relayscope runs its lab without a data directory.
#pragma once

#include <span>

namespace relayscope::lab {

struct BuiltinProfile {
  const char* name;
  const char* text;
};

std::span<const BuiltinProfile> builtin_profiles();

}  // namespace relayscope::lab
