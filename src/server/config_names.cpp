// See config_parts.hpp: the checks of the names the configuration holds
// (domains, local parts and user names, addresses).
#include <algorithm>
#include <cctype>

#include "server/config_parts.hpp"

namespace relayscope::server::config_parts {

bool valid_domain(const std::string& d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  std::size_t label = 0;
  for (char ch : d) {
    if (ch == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') return false;
    if (++label > 63) return false;
  }
  return true;
}

bool plain_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    auto u = static_cast<unsigned char>(ch);
    return u > 0x20 && u < 0x7f && ch != '@' && ch != ':';
  });
}

bool plain_address(const std::string& s) {
  auto at = s.rfind('@');
  if (at == std::string::npos || at == 0) return false;
  return plain_name(s.substr(0, at)) && valid_domain(s.substr(at + 1));
}

}  // namespace relayscope::server::config_parts
