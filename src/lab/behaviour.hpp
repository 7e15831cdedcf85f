// What each simulated mail host does, by name: the scripted behaviours of
// the lab (issue 2's cases, issue 5's trick-only relays, the hostile ones),
// with the outcome the survey should classify for each and what really
// becomes of a message the host accepts. Pure tables; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace relayscope::lab {

enum class Behaviour : std::uint8_t {
  // Plain cases (issue 2/3).
  refused,           // no listener: connection refused
  no_greeting,       // accepts, never says a word
  greeting_554,      // "554" greeting, then only QUIT
  helo_only,         // EHLO unknown (500), HELO fine; refuses relaying
  mail_rejected,     // 550 at MAIL FROM
  relay_denied,      // 554 5.7.1 at RCPT TO (a closed relay)
  greylist,          // 450 4.7.1 at RCPT TO
  data_rejected,     // 554 to the DATA command
  message_rejected,  // 554 after the final dot
  message_tempfail,  // 451 after the final dot
  relay,             // open relay that really relays (MX of the recipient's domain)
  accept_drop,       // open, accepts and silently drops
  bounce,            // open, accepts, then bounces (RFC 3464 DSN) to the sender
  quit_error,        // accepts everything, answers QUIT with 421
  slow_greeting,     // multi-line 220- greeting over a few seconds; closed
  starttls,          // offers STARTTLS (self-signed); closed
  // Relays that refuse the plain recipient but relay for one spelling (issue 5).
  trick_percent_hack,
  trick_bang_path,
  trick_quoted_local,
  trick_source_route,
  trick_address_literal,
  trick_null_sender,
  trick_spoofed_local_sender,
  trick_upper_case_domain,
  trick_trailing_dot_domain,
  trick_unqualified_sender,
  trick_sender_localhost,
  trick_sender_equals_recipient,
  trick_trailing_at,
  trick_double_at,          // user@target@itself: the host strips itself, then relays
  trick_sender_at_literal,  // trusts a sender at its own address literal
  trick_after_failed_auth,  // last of the tricks (is_trick)
  // Hostile peers: the survey must survive them.
  garbage_greeting,  // non-SMTP bytes instead of a greeting
  garbage_reply,     // a good greeting, then garbage to every command
  endless_line,      // a greeting line that never ends, streamed
  reset_at_connect,  // accepts and resets at once
  reset_mid,         // resets the connection after MAIL FROM
  slow_bytes,        // the greeting one byte a second
  thousand_lines,    // a 1000-line EHLO reply; closed
  // The internet profile (issue 12).
  tarpit,  // a greeting line trickled one byte per slow_byte_ms that never ends
};

// What becomes of a message the host accepted.
enum class Fate : std::uint8_t { none, delivered, bounced, dropped };

struct BehaviourInfo {
  Behaviour behaviour;
  const char* name;     // as in profiles and the truth file
  const char* outcome;  // the IMC outcome the survey should classify (imc transaction)
  Fate fate;            // for hosts that accept the IMC test message
  const char* what;     // one line for humans
};

std::span<const BehaviourInfo> all_behaviours();
const BehaviourInfo& info(Behaviour b);
std::optional<Behaviour> parse_behaviour(std::string_view name);
const char* to_string(Fate f);

bool is_trick(Behaviour b);
// Does the host accept mail at all (so that it needs STARTTLS, DATA...)?
bool has_listener(Behaviour b);
// Does the host accept any recipient at RCPT TO (an open relay's manners,
// whatever it does later with the message)?
bool accepts_any_recipient(Behaviour b);
// Does the plain (IMC) test reach RCPT TO with an ordinary answer there, so
// that a greylisting host shows it (timing.hpp)? Trick hosts are left out:
// each variant would be a new triplet and change what the variants find.
bool greylistable(Behaviour b);
// The survey's variant names (survey/variants.cpp) for which a trick host
// relays; empty for other behaviours. Kept beside the matcher (tricks.hpp),
// and checked against the survey's own list by a unit test.
std::vector<std::string> trick_variants(Behaviour b);

// The outcomes of the IMC's table, in its order.
std::span<const char* const> imc_outcomes();
bool is_outcome(std::string_view s);

}  // namespace relayscope::lab
