// See line_fold.hpp. A CR directly before LF belongs to the line ending and
// never counts toward the length, nor is a fold put between them.
#include "smtp/line_fold.hpp"

#include <cstring>

namespace relayscope::smtp {

void LineFolder::feed(std::string_view in, std::string& out) {
  // Line by line: a line that fits goes out in one append (most do); one
  // that does not is folded a byte at a time (fold_bytes).
  while (!in.empty()) {
    const auto* lf = static_cast<const char*>(std::memchr(in.data(), '\n', in.size()));
    std::size_t line = lf ? static_cast<std::size_t>(lf - in.data()) + 1 : in.size();
    std::size_t counted = lf ? line - 1 : line;                   // the LF never counts
    if (lf && counted > 0 && in[counted - 1] == '\r') --counted;  // nor the CR before it
    if (column_ + counted <= limit_) {
      out.append(in.data(), line);
      column_ = lf ? 0 : column_ + counted;
    } else {
      fold_bytes(in.substr(0, line), out);
    }
    in.remove_prefix(line);
  }
}

void LineFolder::fold_bytes(std::string_view in, std::string& out) {
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
