// SMTP replies (RFC 5321 section 4.2), pure: the parser is fed one line at a
// time (without its CRLF) and says when a whole, possibly multi-line, reply
// has arrived. Lines are bounded in length and in number so that a hostile
// server cannot make us hold more than limits allow.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::smtp {

// RFC 3463 enhanced status code: class.subject.detail, e.g. 5.7.1.
struct EnhancedStatus {
  int klass = 0;  // 2, 4 or 5
  int subject = 0;
  int detail = 0;
  std::string to_string() const;
  friend bool operator==(const EnhancedStatus&, const EnhancedStatus&) = default;
};

// Parses "5.7.1" at the start of text; nullopt if text does not start with one.
std::optional<EnhancedStatus> parse_enhanced_status(std::string_view text);

struct Reply {
  int code = 0;                          // 200..599
  std::optional<EnhancedStatus> status;  // from the first line, if present
  std::vector<std::string> lines;        // the text after "NNN-" / "NNN ", per line

  int klass() const { return code / 100; }  // 2, 3, 4, 5
  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return klass() == 4; }
  bool permanent() const { return klass() == 5; }
  // All lines' text joined with a space, for logs and reports.
  std::string text() const;
  // The reply as it goes on the wire: "250-a\r\n250 b\r\n". Used by the server.
  std::string wire() const;
};

struct ReplyLimits {
  std::size_t max_line_length = 2048;  // RFC 5321 says 512; real servers exceed it
  std::size_t max_lines = 256;
};

// Incremental: feed lines until it returns a Reply. An Error is final for the
// reply (garbage, mixed codes, too long, too many lines); the parser must be
// reset() before reuse.
class ReplyParser {
 public:
  explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

  // Returns nullopt while more lines are needed.
  std::optional<Expected<Reply>> feed_line(std::string_view line);
  void reset();
  bool in_progress() const { return !current_.lines.empty(); }

 private:
  ReplyLimits limits_;
  Reply current_;
};

// A reply from its code and text ("5.7.1 Relaying denied"): the enhanced
// status is read from the front of the text; '\n' separates the lines of a
// multi-line reply. For the server's own replies (no parsing of wire text).
Reply make_reply(int code, std::string_view text);

// Convenience for tests and the server's canned replies: parses a whole reply
// text containing CRLF-separated lines.
Expected<Reply> parse_reply(std::string_view text, ReplyLimits limits = {});

}  // namespace relayscope::smtp
