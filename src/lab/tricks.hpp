// Relay-trick spellings as old MTAs read them, pure: a raw path from MAIL
// FROM or RCPT TO (strict RFC 5321 or not: "<D!T>", "<T@D@>", "<user>") is
// decoded to the mailbox where the mail would really go, with the features
// of its spelling; and the rule of each trick-only lab host says whether it
// relays for a given envelope. Limits: paths longer than 512 bytes are not
// decoded (a real server would refuse them too).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lab/behaviour.hpp"

namespace relayscope::lab {

// Who the host is: names that mean "here" in a recipient's host part.
struct HostIdentity {
  std::string domain;                         // the domain it is the mail host of ("d00042.test")
  std::string name;                           // its greeting name ("mx.d00042.test")
  std::string ip_literal;                     // "[127.1.0.42]"
  bool is_self(std::string_view host) const;  // case-insensitive, trailing dot ignored
};

struct DecodedPath {
  bool null = false;         // "<>"
  std::string raw;           // the path as sent, without its angle brackets
  std::string local;         // final local part (unquoted)
  std::string domain;        // final domain, lower case, no trailing dot ("" if none)
  std::string written_host;  // the host part as written (before decoding), may be ""
  bool source_route = false;
  bool quoted = false;          // the local part was quoted
  bool percent = false;         // user%target@host, resolved
  bool bang = false;            // target!user, resolved
  bool double_at = false;       // user@target@host, resolved
  bool literal_host = false;    // host part is an address literal
  bool upper_case = false;      // the written domain has upper-case letters
  bool trailing_dot = false;    // the written domain ends with '.'
  bool trailing_at = false;     // "user@target@"
  std::string mailbox() const;  // "local@domain", or "local" if no domain
};

// The text inside the angle brackets of "FROM:<...>" / "TO:<...>" of a
// command line (a bare address without brackets is taken up to the first
// space). nullopt if the line has no such argument.
std::optional<std::string> raw_path_of(std::string_view command_line);

// Decodes a path (with or without angle brackets). A percent hack, bang path
// or quoted/double '@' is resolved only where the host part is this host (or
// absent), as sendmail did. nullopt for text that is no path at all.
std::optional<DecodedPath> decode_path(std::string_view raw, const HostIdentity& self);

struct EnvelopeFacts {
  DecodedPath sender;
  DecodedPath recipient;
  bool auth_failed = false;  // an AUTH was refused earlier in the session
};

// Whether a trick-only host relays for this envelope (the recipient is not
// local). False for every behaviour that is not a trick.
bool trick_relays(Behaviour b, const EnvelopeFacts& facts, const HostIdentity& self);

}  // namespace relayscope::lab
