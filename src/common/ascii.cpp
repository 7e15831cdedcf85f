// See ascii.hpp.
#include "common/ascii.hpp"

namespace relayscope::ascii {

std::string lower(std::string_view s) {
  std::string out(s);
  lower_in_place(out);
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = upper(c);
  return out;
}

void lower_in_place(std::string& s) {
  for (auto& c : s) c = lower(c);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace relayscope::ascii
