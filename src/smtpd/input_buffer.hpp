// The session's input, pure: bytes in, command lines out, bounded. A line
// longer than the limit is reported once and then skipped up to its LF as
// the rest arrives, keeping whatever the client pipelined after that LF (the
// old skip_rest_of_line threw away the whole buffer with those commands).
// DATA reads the raw bytes through data()/consume(). Its memory follows the
// client: reads start small (an idle session or one sending commands holds
// about 1 KiB), double each time a read fills all the room it was given (a
// message, a pipelined burst), and relax() goes back to small after DATA, so
// 10,000 idle sessions cost little.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace relayscope::smtpd {

class InputBuffer {
 public:
  enum class Line { complete, need_more, too_long };

  // A line without its line ending (CRLF, or a bare LF) into `out`.
  Line take_line(std::size_t max, std::string& out);

  std::string_view data() const { return std::string_view(buf_).substr(start_); }
  void consume(std::size_t n);
  bool empty() const { return start_ == buf_.size(); }
  std::size_t size() const { return buf_.size() - start_; }
  void clear();  // STARTTLS: what came in clear text is never executed

  // Room for `n` more bytes, then commit(how many arrived).
  std::span<char> prepare(std::size_t n);
  void commit(std::size_t n);

  // What the next read should ask for: min_read at first, doubled (up to
  // max_read) by each commit that filled the whole room it was given.
  static constexpr std::size_t min_read = 1024;
  static constexpr std::size_t max_read = 16 * 1024;
  std::size_t read_size() const { return read_size_; }
  // Back to small reads, and the memory beyond what is unread given back.
  void relax();
  std::size_t capacity() const { return buf_.capacity(); }

 private:
  void compact();
  std::string buf_;
  std::size_t start_ = 0;
  std::size_t filled_ = 0;  // bytes of buf_ in use (prepare() grows buf_ past it)
  bool skipping_ = false;   // inside an overlong line: drop up to its LF
  std::size_t read_size_ = min_read;
  std::size_t prepared_ = 0;  // the room the last prepare() gave
};

}  // namespace relayscope::smtpd
