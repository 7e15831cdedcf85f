// See data_reader.hpp. A byte-at-a-time state machine: simple to prove, and
// fast enough (a few ns a byte). States track where we are relative to a
// line start; only CR LF "." CR LF ends the message.
#include "smtp/data_reader.hpp"

namespace relayscope::smtp {

namespace {
// phase_ values
constexpr int in_line = 0;       // inside a line
constexpr int saw_cr = 1;        // CR seen inside a line
constexpr int line_start = 2;    // just after CRLF (or at the start of the message)
constexpr int dot = 3;           // "." at a line start
constexpr int dot_cr = 4;        // "." CR at a line start
}  // namespace

DataReader::DataReader(std::size_t max_size, std::size_t max_line)
    : max_size_(max_size), max_line_(max_line), phase_(line_start) {}

std::size_t DataReader::feed(std::string_view in, std::string& out) {
  std::size_t i = 0;
  auto violate = [this](State s) {
    if (state_ == State::reading) state_ = s;
  };
  auto emit = [&](std::string_view bytes) {
    if (state_ != State::reading) return;
    size_ += bytes.size();
    if (size_ > max_size_) {
      violate(State::too_big);
      return;
    }
    out.append(bytes);
  };
  while (i < in.size() && !finished_) {
    char c = in[i++];
    switch (phase_) {
      case line_start:
        line_length_ = 0;
        if (c == '.') {
          phase_ = dot;
          continue;
        }
        [[fallthrough]];
      case in_line:
        if (c == '\r') {
          phase_ = saw_cr;
        } else if (c == '\n') {
          violate(State::bare_line_ending);  // bare LF
          phase_ = in_line;
        } else {
          if (++line_length_ > max_line_) violate(State::line_too_long);
          emit(std::string_view(&c, 1));
          phase_ = in_line;
        }
        break;
      case saw_cr:
        if (c == '\n') {
          emit("\r\n");
          phase_ = line_start;
        } else {
          violate(State::bare_line_ending);  // bare CR
          phase_ = in_line;
          --i;  // this byte starts over inside the line
        }
        break;
      case dot:
        if (c == '\r') {
          phase_ = dot_cr;
        } else {
          // A leading dot is removed (un-stuffing); a lone "." then text is
          // a client that did not stuff: keep the text either way.
          phase_ = in_line;
          line_length_ = 1;
          --i;
        }
        break;
      case dot_cr:
        if (c == '\n') {
          finished_ = true;
          if (state_ == State::reading) state_ = State::done;
        } else {
          violate(State::bare_line_ending);  // "." CR without LF
          phase_ = in_line;
          --i;
        }
        break;
    }
  }
  return i;
}

}  // namespace relayscope::smtp
