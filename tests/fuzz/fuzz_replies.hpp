// What the whole-session fuzzers check of a server's output: well-formed
// replies only (3 digits, then '-' or ' ', then CRLF-ended text without CR
// or LF inside), and how often a reply text occurs.
#pragma once

#include <cstddef>
#include <string_view>

inline bool well_formed(std::string_view out) {
  while (!out.empty()) {
    auto nl = out.find("\r\n");
    if (nl == std::string_view::npos) return false;
    auto line = out.substr(0, nl);
    if (line.size() < 3) return false;
    for (int i = 0; i < 3; ++i) {
      if (line[i] < '0' || line[i] > '9') return false;
    }
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return false;
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos) {
      return false;
    }
    out.remove_prefix(nl + 2);
  }
  return true;
}

inline std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}
