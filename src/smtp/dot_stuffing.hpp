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

}  // namespace relayscope::smtp
