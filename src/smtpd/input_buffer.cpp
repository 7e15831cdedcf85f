// See input_buffer.hpp. buf_[start_, filled_) is unread input; consumed bytes
// are dropped from the front when that is cheap (before each prepare).
#include "smtpd/input_buffer.hpp"

#include <algorithm>

namespace relayscope::smtpd {

InputBuffer::Line InputBuffer::take_line(std::size_t max, std::string& out) {
  for (;;) {
    std::string_view in(buf_.data() + start_, filled_ - start_);
    auto nl = in.find('\n');
    if (skipping_) {
      if (nl == std::string_view::npos) {
        start_ = filled_;  // all of it belongs to the overlong line
        return Line::need_more;
      }
      start_ += nl + 1;
      skipping_ = false;
      continue;
    }
    if (nl == std::string_view::npos) {
      if (in.size() > max) {
        start_ = filled_;
        skipping_ = true;
        return Line::too_long;
      }
      return Line::need_more;
    }
    auto end = (nl > 0 && in[nl - 1] == '\r') ? nl - 1 : nl;
    if (end > max) {
      start_ += nl + 1;
      return Line::too_long;
    }
    out.assign(in.substr(0, end));
    start_ += nl + 1;
    return Line::complete;
  }
}

void InputBuffer::consume(std::size_t n) {
  start_ += std::min(n, filled_ - start_);
}

void InputBuffer::clear() {
  start_ = filled_ = 0;
  buf_.clear();
  skipping_ = false;
}

void InputBuffer::compact() {
  if (start_ == 0) return;
  buf_.erase(0, start_);
  filled_ -= start_;
  start_ = 0;
}

std::span<char> InputBuffer::prepare(std::size_t n) {
  compact();
  buf_.resize(filled_ + n);
  prepared_ = n;
  return std::span<char>(buf_.data() + filled_, n);
}

void InputBuffer::commit(std::size_t n) {
  n = std::min(n, prepared_);
  // A read that filled all its room: more is probably waiting.
  if (n > 0 && n == prepared_ && n >= read_size_) read_size_ = std::min(read_size_ * 2, max_read);
  prepared_ = 0;
  filled_ += n;
  buf_.resize(filled_);
}

void InputBuffer::relax() {
  read_size_ = min_read;
  compact();
  if (buf_.capacity() <= std::max(filled_, min_read) * 2) return;
  // A copy of what is unread in a buffer of its size: std::string never
  // gives memory back by itself (shrink_to_fit is only a request).
  std::string smaller;
  smaller.reserve(std::max(filled_, min_read));
  smaller.assign(buf_, 0, filled_);
  buf_.swap(smaller);
}

}  // namespace relayscope::smtpd
