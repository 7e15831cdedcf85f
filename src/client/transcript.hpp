// A dialogue's transcript, kept compactly while the dialogue runs: every
// line's text in one buffer, and per line 16 bytes (time, direction, where
// its text is). Tens of thousands of probes are in flight at once, each with
// some hundred lines under --variants all: one allocation per line (and 48
// bytes of bookkeeping) would be most of a probe's memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace relayscope::client {

// One line as read back: `text` is valid while the transcript is unchanged.
struct TranscriptEntry {
  std::int64_t t_us = 0;  // since the dialogue's epoch
  char direction = '>';   // '>' sent, '<' received, '*' event
  std::string_view text;
};

class Transcript {
 public:
  // Longer texts are cut here (a caller cuts them shorter, with a note).
  static constexpr std::size_t max_text = 65535;

  void add(std::int64_t t_us, char direction, std::string_view text);
  std::size_t size() const { return lines_.size(); }
  bool empty() const { return lines_.empty(); }
  TranscriptEntry operator[](std::size_t i) const;
  // Bytes held (text and index, allocated): what a probe's transcript costs.
  std::size_t capacity_bytes() const;

  class const_iterator {
   public:
    const_iterator(const Transcript* t, std::size_t i) : t_(t), i_(i) {}
    TranscriptEntry operator*() const { return (*t_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const Transcript* t_;
    std::size_t i_;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, lines_.size()}; }

 private:
  struct Line {
    std::int64_t t_us;
    std::uint32_t offset;
    std::uint16_t size;
    char direction;
  };
  static_assert(sizeof(Line) == 16);

  std::vector<char> text_;
  std::vector<Line> lines_;
};

}  // namespace relayscope::client
