// The addresses of a message's From: header (RFC 5322 3.6.2), pure: what the
// relay compares with the logged-in user's addresses (sender binding). Reads
// the header section only (up to the first empty line), unfolds, skips
// comments, display names and quoted strings, handles angle addresses,
// groups and several mailboxes. It fails closed: no From:, two From: fields,
// an empty or unparseable list is an error, never "no address to check".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::smtp {

inline constexpr std::size_t max_from_addresses = 100;

// `message` is the message as received (CRLF or LF line ends); only its
// header section is read, and at most `max_header` bytes of it. Each address
// is "local@domain" with the domain lower-cased and a quoted local part
// unquoted when that changes nothing (".."-free atoms).
Expected<std::vector<std::string>> from_header_addresses(std::string_view message,
                                                         std::size_t max_header = 256 * 1024);

}  // namespace relayscope::smtp
