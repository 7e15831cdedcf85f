// See dot_stuffing.hpp. CRLF, a bare CR and a bare LF each count as one line
// ending and become CRLF, so that what we send never holds a bare line ending
// (the other half of the smuggling defence).
#include "smtp/dot_stuffing.hpp"

#include <cstring>

namespace relayscope::smtp {

namespace {

// Where the next CR or LF is (the end when there is none): two memchr
// rather than a test per byte.
std::size_t next_line_ending(std::string_view m) {
  const auto* cr = static_cast<const char*>(std::memchr(m.data(), '\r', m.size()));
  std::size_t end = cr ? static_cast<std::size_t>(cr - m.data()) : m.size();
  const auto* lf = static_cast<const char*>(std::memchr(m.data(), '\n', end));
  return lf ? static_cast<std::size_t>(lf - m.data()) : end;
}

}  // namespace

void DotStuffer::feed(std::string_view m, std::string& out) {
  out.reserve(out.size() + m.size() + m.size() / 50 + 5);
  while (!m.empty()) {
    char c = m.front();
    if (c == '\n' && after_cr_) {
      after_cr_ = false;  // the LF of a CRLF: its CRLF is out already
      m.remove_prefix(1);
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      out += "\r\n";
      line_start_ = true;
      m.remove_prefix(1);
      continue;
    }
    if (line_start_ && c == '.') out += '.';
    line_start_ = false;
    // The rest of the line goes out as it is.
    auto n = next_line_ending(m);
    out.append(m.data(), n);
    m.remove_prefix(n);
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
