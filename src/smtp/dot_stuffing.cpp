// See dot_stuffing.hpp. CRLF, a bare CR and a bare LF each count as one line
// ending and become CRLF, so that what we send never holds a bare line ending
// (the other half of the smuggling defence).
#include "smtp/dot_stuffing.hpp"

namespace relayscope::smtp {

std::string dot_stuff(std::string_view m) {
  std::string out;
  out.reserve(m.size() + m.size() / 50 + 5);
  bool line_start = true;
  for (std::size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (c == '\r' || c == '\n') {
      out += "\r\n";
      if (c == '\r' && i + 1 < m.size() && m[i + 1] == '\n') ++i;
      line_start = true;
      continue;
    }
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace relayscope::smtp
