// See data_reader.hpp. A byte-at-a-time state machine with a fast path for
// the inside of a line. `phase_` says where we are relative to a line start;
// only CR LF "." CR LF ends the message, and the message itself starts at a
// line start. Line length counts the raw line including its CRLF.
#include "smtp/data_reader.hpp"

namespace relayscope::smtp {

namespace {
// phase_ values
constexpr int in_line = 0;     // inside a line
constexpr int saw_cr = 1;      // CR seen inside a line
constexpr int line_start = 2;  // just after CRLF (or at the start of the message)
constexpr int dot = 3;         // "." at a line start
constexpr int dot_cr = 4;      // "." CR at a line start
}  // namespace

DataReader::DataReader(std::size_t max_size, std::size_t max_line)
    : max_size_(max_size), max_line_(max_line), phase_(line_start) {}

std::size_t DataReader::feed(std::string_view in, std::string& out) {
  // The first violation is the one reported; after it nothing more is kept.
  auto violate = [this](State s) {
    if (state_ == State::reading) state_ = s;
  };
  auto emit = [&](std::string_view bytes) {
    if (state_ != State::reading) return;
    if (bytes.size() > max_size_ - size_) {
      violate(State::too_big);
      return;
    }
    size_ += bytes.size();
    out.append(bytes);
  };
  auto count = [&](std::size_t n) {
    line_length_ += n;
    if (line_length_ > max_line_) violate(State::line_too_long);
  };
  // A byte that is ordinary text, CR or LF, seen inside a line.
  auto inside = [&](char c) {
    if (c == '\r') {
      phase_ = saw_cr;
    } else if (c == '\n') {
      violate(State::bare_line_ending);  // bare LF: not a line end, and not a line start
      phase_ = in_line;
    } else if (c == '\0') {
      violate(State::nul_byte);
      phase_ = in_line;
    } else {
      emit(std::string_view(&c, 1));
      phase_ = in_line;
    }
  };

  std::size_t i = 0;
  while (i < in.size() && !finished_) {
    if (phase_ == in_line) {
      // Fast path: copy a run of ordinary bytes at once, unless a limit is
      // crossed inside it (then byte by byte, so that the violation reported
      // never depends on how the input was split).
      std::size_t j = i;
      while (j < in.size() && in[j] != '\r' && in[j] != '\n' && in[j] != '\0') ++j;
      std::size_t run = j - i;
      bool within = line_length_ + run <= max_line_ && run <= max_size_ - size_;
      if (run > 0 && (within || state_ != State::reading)) {
        count(j - i);
        emit(in.substr(i, j - i));
        i = j;
        continue;
      }
    }
    char c = in[i++];
    if (phase_ == line_start) line_length_ = 0;
    count(1);
    switch (phase_) {
      case line_start:
        if (c == '.') {
          phase_ = dot;  // the leading dot is never part of the message
        } else {
          inside(c);
        }
        break;
      case in_line:
        inside(c);
        break;
      case saw_cr:
        if (c == '\n') {
          emit("\r\n");
          phase_ = line_start;
        } else {
          violate(State::bare_line_ending);  // bare CR
          inside(c);
        }
        break;
      case dot:
        // "." CR may start the end marker; anything else is un-stuffed text
        // (".." becomes "."; a lone "." then text from a client that did not
        // stuff keeps its text too).
        if (c == '\r') {
          phase_ = dot_cr;
        } else {
          inside(c);
        }
        break;
      case dot_cr:
        if (c == '\n') {
          finished_ = true;
          if (state_ == State::reading) state_ = State::done;
        } else {
          violate(State::bare_line_ending);  // "." CR without its LF
          inside(c);
        }
        break;
      default:
        break;
    }
  }
  return i;
}

}  // namespace relayscope::smtp
