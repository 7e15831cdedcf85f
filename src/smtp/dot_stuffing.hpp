// Dot-stuffing (RFC 5321 section 4.5.2) and the end-of-data marker, for the
// sending side. The receiving side is smtp/data_reader.hpp.
#pragma once

#include <string>
#include <string_view>

namespace relayscope::smtp {

// Turns a message into what follows the DATA command: every line ending
// normalised to CRLF, a leading '.' doubled, and the final "CRLF.CRLF" added
// (a message that does not end with a line ending gets one).
std::string dot_stuff(std::string_view message);

// The same a piece at a time (a message read from the spool as it is sent):
// feed() each piece in order, then finish() adds the end; the state (start
// of a line, a CR whose LF may open the next piece) carries across pieces.
class DotStuffer {
 public:
  void feed(std::string_view piece, std::string& out);
  void finish(std::string& out);

 private:
  bool line_start_ = true;
  bool after_cr_ = false;  // the last byte was a CR, already sent as CRLF
};

}  // namespace relayscope::smtp
