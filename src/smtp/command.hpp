// SMTP commands as a server receives them (RFC 5321 section 4.1), pure: one
// line without its CRLF in, a Command or an error reply out.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.hpp"
#include "smtp/path.hpp"

namespace relayscope::smtp {

enum class Verb { ehlo, helo, mail, rcpt, data, rset, noop, quit, vrfy, expn, help, starttls, auth, bdat, unknown };

struct Command {
  Verb verb = Verb::unknown;
  std::string verb_text;   // as sent, upper-cased
  std::string argument;    // the rest of the line after one space (EHLO name, VRFY arg, AUTH ...)
  Path path;               // MAIL FROM / RCPT TO
  std::vector<std::pair<std::string, std::string>> params;  // ESMTP params: keyword upper-cased, value
};

// A parse failure carries the reply the server should send (501/500 with an
// enhanced status) in `message` as "CODE X.Y.Z text".
Expected<Command> parse_command(std::string_view line, bool lenient_paths = false);

}  // namespace relayscope::smtp
