// Lines longer than RFC 5321 allows, folded on the way out as Postfix's
// smtp_line_length_limit does: a line over `limit` octets (CRLF not counted)
// is cut at the limit and continued on a new line that starts with a space.
// Real mail holds such lines and a next hop would bounce them whole; the
// server accepts them and the DATA sender folds them. Pure; works on chunks.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace relayscope::smtp {

class LineFolder {
 public:
  explicit LineFolder(std::size_t limit = 998) : limit_(limit < 2 ? 2 : limit) {}
  // Appends `in` to `out`, folded; the state carries across calls.
  void feed(std::string_view in, std::string& out);

 private:
  void fold_bytes(std::string_view in, std::string& out);  // one line that needs folding
  std::size_t limit_;
  std::size_t column_ = 0;  // octets on the current output line
};

// The whole message at once.
std::string fold_long_lines(std::string_view message, std::size_t limit = 998);

}  // namespace relayscope::smtp
