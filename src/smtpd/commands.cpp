// See commands.hpp.
#include "smtpd/commands.hpp"

#include <array>

namespace relayscope::smtpd {

namespace {

using smtp::Verb;

constexpr std::array<CommandSpec, 15> table{{
    {Verb::ehlo, ends_group},
    {Verb::helo, ends_group},
    {Verb::mail, needs_helo | not_in_mail},
    {Verb::rcpt, needs_helo | needs_mail},
    {Verb::data, needs_helo | needs_mail | needs_rcpt | ends_group},
    {Verb::rset, junk},
    {Verb::noop, ends_group | junk},
    {Verb::quit, ends_group},
    {Verb::vrfy, ends_group | junk},
    {Verb::expn, ends_group | junk},
    {Verb::help, ends_group | junk},
    {Verb::starttls, needs_helo | not_in_mail | ends_group},
    {Verb::auth, needs_helo | not_in_mail | ends_group},
    {Verb::bdat, ends_group},
    {Verb::unknown, ends_group},
}};

}  // namespace

const CommandSpec& command_spec(smtp::Verb verb) {
  for (const auto& c : table) {
    if (c.verb == verb) return c;
  }
  return table.back();
}

std::optional<smtp::Reply> check_sequence(const CommandSpec& spec, const SessionPhase& phase) {
  if ((spec.flags & needs_helo) && !phase.greeted) {
    return smtp::make_reply(503, "5.5.1 Send EHLO first");
  }
  if ((spec.flags & not_in_mail) && phase.in_mail) {
    return smtp::make_reply(503, spec.verb == Verb::mail ? "5.5.1 Nested MAIL command"
                                                         : "5.5.1 Not inside a mail transaction");
  }
  if ((spec.flags & needs_mail) && !phase.in_mail) {
    return smtp::make_reply(503, "5.5.1 Need MAIL first");
  }
  if ((spec.flags & needs_rcpt) && !phase.has_rcpt) {
    return smtp::make_reply(554, "5.5.1 No valid recipients");
  }
  return std::nullopt;
}

}  // namespace relayscope::smtpd
