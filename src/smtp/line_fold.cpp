// See line_fold.hpp. A CR directly before LF belongs to the line ending and
// never counts toward the length, nor is a fold put between them.
#include "smtp/line_fold.hpp"

namespace relayscope::smtp {

void LineFolder::feed(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\n') {
      out += c;
      column_ = 0;
      continue;
    }
    // A CR that ends a line: the next byte decides, so CR is never the one
    // that crosses the limit (a CR at a chunk's end is counted, harmlessly).
    bool ends_line = c == '\r' && i + 1 < in.size() && in[i + 1] == '\n';
    if (!ends_line && column_ >= limit_) {
      out += "\r\n ";
      column_ = 1;
    }
    out += c;
    if (!ends_line) ++column_;
  }
}

std::string fold_long_lines(std::string_view message, std::size_t limit) {
  std::string out;
  out.reserve(message.size() + message.size() / 64);
  LineFolder f(limit);
  f.feed(message, out);
  return out;
}

}  // namespace relayscope::smtp
