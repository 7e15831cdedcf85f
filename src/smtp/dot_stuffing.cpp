// See dot_stuffing.hpp. CRLF, a bare CR and a bare LF each count as one line
// ending and become CRLF, so that what we send never holds a bare line ending
// (the other half of the smuggling defence).
#include "smtp/dot_stuffing.hpp"

namespace relayscope::smtp {

void DotStuffer::feed(std::string_view m, std::string& out) {
  out.reserve(out.size() + m.size() + m.size() / 50 + 5);
  for (char c : m) {
    if (c == '\n' && after_cr_) {
      after_cr_ = false;  // the LF of a CRLF: its CRLF is out already
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      out += "\r\n";
      line_start_ = true;
      continue;
    }
    if (line_start_ && c == '.') out += '.';
    out += c;
    line_start_ = false;
  }
}

void DotStuffer::finish(std::string& out) {
  if (!line_start_) out += "\r\n";
  out += ".\r\n";
  line_start_ = true;
  after_cr_ = false;
}

std::string dot_stuff(std::string_view m) {
  std::string out;
  DotStuffer s;
  s.feed(m, out);
  s.finish(out);
  return out;
}

}  // namespace relayscope::smtp
