// See transcript.hpp.
#include "client/transcript.hpp"

#include <algorithm>

namespace relayscope::client {

namespace {

// Grows by half, not double, from a small start: the slack of a vector that
// doubles is up to half of it, and every probe in flight carries it.
template <class T>
void make_room(std::vector<T>& v, std::size_t more, std::size_t first) {
  const auto need = v.size() + more;
  if (need <= v.capacity()) return;
  v.reserve(std::max({need, first, v.capacity() + v.capacity() / 2}));
}

}  // namespace

void Transcript::add(std::int64_t t_us, char direction, std::string_view text) {
  text = text.substr(0, max_text);
  const auto offset = text_.size();
  make_room(text_, text.size(), 256);
  make_room(lines_, 1, 8);
  text_.insert(text_.end(), text.begin(), text.end());
  lines_.push_back({t_us, static_cast<std::uint32_t>(offset),
                    static_cast<std::uint16_t>(text.size()), direction});
}

TranscriptEntry Transcript::operator[](std::size_t i) const {
  const auto& l = lines_[i];
  return {l.t_us, l.direction, std::string_view(text_.data() + l.offset, l.size)};
}

std::size_t Transcript::capacity_bytes() const {
  return text_.capacity() + lines_.capacity() * sizeof(Line);
}

}  // namespace relayscope::client
