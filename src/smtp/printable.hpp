// Client text made safe for logs, replies and headers (as Postfix's
// printable()): every byte outside printable ASCII (controls such as ESC, BEL,
// NUL, CR, LF, and 8-bit bytes) becomes '?', and the result is cut to a bound
// so a 1,900-character EHLO name cannot make an overlong header line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace relayscope::smtp {

// At most `max` bytes; a cut text ends in "..." (within the bound).
std::string printable(std::string_view text, std::size_t max = 255);

}  // namespace relayscope::smtp
