// See printable.hpp.
#include "smtp/printable.hpp"

namespace relayscope::smtp {

std::string printable(std::string_view text, std::size_t max) {
  bool cut = text.size() > max;
  if (cut) text = text.substr(0, max < 3 ? 0 : max - 3);
  std::string out;
  out.reserve(text.size() + 3);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (cut) out += std::string_view("...").substr(0, max - out.size());
  return out;
}

}  // namespace relayscope::smtp
