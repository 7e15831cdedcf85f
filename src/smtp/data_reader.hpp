// Receiving side of DATA, pure and incremental: fed raw bytes, it un-stuffs
// dots, finds the end "CRLF.CRLF", and refuses bare CR or bare LF anywhere in
// the message (the SMTP smuggling defence lives here and only here), and
// NUL bytes (a next hop that drops them could see a CRLF.CRLF that was not). Enforces
// the size limit as it reads; after a violation it keeps consuming until the
// real end so that the session can answer and stay in sync.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace relayscope::smtp {

class DataReader {
 public:
  enum class State { reading, done, too_big, bare_line_ending, line_too_long, nul_byte };

  // max_size bounds the un-stuffed message (CRLFs included); max_line bounds
  // each raw line as sent: stuffing dot and CRLF included (RFC 5321 says
  // 1000 octets; the default allows 2 more). no_line_limit accepts any
  // length (the server does, and folds long lines on the way out).
  static constexpr std::size_t no_line_limit = static_cast<std::size_t>(-1);
  explicit DataReader(std::size_t max_size, std::size_t max_line = 1000 + 2 /* CRLF */);

  // Consumes bytes from `input`; returns how many were consumed. Stops at the
  // end marker: bytes after it belong to the next command and are not
  // consumed. Appends the un-stuffed message (CRLF line endings) to `out`
  // while the state is `reading`.
  std::size_t feed(std::string_view input, std::string& out);

  // Terminal once the end marker has been seen: done, or the first violation.
  bool finished() const { return finished_; }
  State state() const { return state_; }

 private:
  std::size_t max_size_;
  std::size_t max_line_;
  std::size_t size_ = 0;
  std::size_t line_length_ = 0;
  State state_ = State::reading;
  bool finished_ = false;
  int phase_ = 0;  // position within a possible "CRLF.CRLF" (implementation detail)
};

}  // namespace relayscope::smtp
