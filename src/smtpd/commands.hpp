// The session's command table: per verb, when it is allowed (what must come
// before it), whether it ends a pipelined group (RFC 2920: its reply goes out
// at once) and whether it counts as junk. The session checks a row before
// running the row's handler, so handlers deal only with their own command.
#pragma once

#include <optional>

#include "smtp/command.hpp"
#include "smtp/reply.hpp"

namespace relayscope::smtpd {

enum CommandFlag : unsigned {
  needs_helo = 1u << 0,   // after EHLO/HELO
  needs_mail = 1u << 1,   // inside a transaction (after MAIL)
  needs_rcpt = 1u << 2,   // at least one accepted recipient
  not_in_mail = 1u << 3,  // outside a transaction only
  ends_group = 1u << 4,   // flush replies now (EHLO, DATA, QUIT, STARTTLS, AUTH, NOOP...)
  junk = 1u << 5,         // NOOP, RSET, VRFY...: counted against the junk limit
};

struct CommandSpec {
  smtp::Verb verb;
  unsigned flags;
};

const CommandSpec& command_spec(smtp::Verb verb);

struct SessionPhase {
  bool greeted = false;
  bool in_mail = false;
  bool has_rcpt = false;
};

// The 503 for a command out of sequence, or nothing.
std::optional<smtp::Reply> check_sequence(const CommandSpec& spec, const SessionPhase& phase);

}  // namespace relayscope::smtpd
