// SMTP commands as a server receives them (RFC 5321 section 4.1), pure: one
// line without its CRLF in, a Command or an error reply out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.hpp"
#include "smtp/path.hpp"
#include "smtp/reply.hpp"

namespace relayscope::smtp {

enum class Verb {
  ehlo,
  helo,
  mail,
  rcpt,
  data,
  rset,
  noop,
  quit,
  vrfy,
  expn,
  help,
  starttls,
  auth,
  bdat,
  unknown
};

struct Command {
  Verb verb = Verb::unknown;
  std::string verb_text;  // as sent, upper-cased
  std::string argument;   // the rest after one space, trailing spaces cut (EHLO name, AUTH ...)
  Path path;              // MAIL FROM / RCPT TO
  // ESMTP params: keyword upper-cased, value as sent ("" for a bare keyword).
  std::vector<std::pair<std::string, std::string>> params;
};

// A parse failure carries the reply the server should send (501/500 with an
// enhanced status) in `message` as "CODE X.Y.Z text": 500 5.5.2 for an unknown
// verb, a NUL, CR, LF or 8-bit byte, or a line over 2048 bytes; 501 5.5.4 for
// bad syntax or parameters; 501 5.1.7 / 5.1.3 for a bad MAIL / RCPT address.
// EHLO, HELO, VRFY, EXPN, AUTH and BDAT need an argument; DATA, RSET, QUIT and
// STARTTLS take none. `lenient_paths` is parse_path's `lenient`.
Expected<Command> parse_command(std::string_view line, bool lenient_paths = false);

// The same with the refusal typed: the command, or the Reply to send (the
// server session uses this; nobody re-parses reply text).
struct CommandOrReply {
  std::optional<Command> command;
  Reply refusal;  // when !command
};
CommandOrReply parse_command_or_reply(std::string_view line, bool lenient_paths = false);

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") (RFC 5321 4.1.2):
// MAIL/RCPT parameter names and the EHLO reply's extension names.
bool is_esmtp_keyword(std::string_view k);

}  // namespace relayscope::smtp
