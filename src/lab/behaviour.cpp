// See behaviour.hpp.
#include "lab/behaviour.hpp"

#include <array>

namespace relayscope::lab {

namespace {

using B = Behaviour;
using F = Fate;

constexpr std::array<BehaviourInfo, 40> table{{
    {B::refused, "refused", "CONNECT", F::none, "connection refused (no listener)"},
    {B::no_greeting, "no_greeting", "CONNECT", F::none, "accepts, never sends a greeting"},
    {B::greeting_554, "greeting_554", "CONNECT", F::none, "554 greeting, then only QUIT"},
    {B::helo_only, "helo_only", "TO", F::none, "EHLO unknown (500), HELO fine; closed"},
    {B::mail_rejected, "mail_rejected", "MAIL", F::none, "550 5.7.1 at MAIL FROM"},
    {B::relay_denied, "relay_denied", "TO", F::none, "554 5.7.1 relay denied at RCPT TO"},
    {B::greylist, "greylist", "TO", F::none, "450 4.7.1 greylisted at RCPT TO"},
    {B::data_rejected, "data_rejected", "DATA", F::none, "554 to the DATA command"},
    {B::message_rejected, "message_rejected", "DATA", F::none, "554 after the final dot"},
    {B::message_tempfail, "message_tempfail", "DATA", F::none, "451 after the final dot"},
    {B::relay, "relay", "OK", F::delivered, "open relay: delivers to the recipient's MX"},
    {B::accept_drop, "accept_drop", "OK", F::dropped, "open: accepts and silently drops"},
    {B::bounce, "bounce", "OK", F::bounced, "open: accepts, then bounces to the sender"},
    {B::quit_error, "quit_error", "QUIT", F::dropped, "accepts, answers QUIT with 421"},
    {B::slow_greeting, "slow_greeting", "TO", F::none, "multi-line greeting over seconds; closed"},
    {B::starttls, "starttls", "TO", F::none, "offers STARTTLS (self-signed); closed"},
    {B::trick_percent_hack, "trick_percent_hack", "TO", F::none,
     "relays for user%target@host only"},
    {B::trick_bang_path, "trick_bang_path", "TO", F::none, "relays for target!user only"},
    {B::trick_quoted_local, "trick_quoted_local", "TO", F::none, "relays for \"user@target\" only"},
    {B::trick_source_route, "trick_source_route", "TO", F::none,
     "relays for @host:user@target only"},
    {B::trick_address_literal, "trick_address_literal", "TO", F::none,
     "relays for recipients @[its address] only"},
    {B::trick_null_sender, "trick_null_sender", "TO", F::none, "relays for the null sender only"},
    {B::trick_spoofed_local_sender, "trick_spoofed_local_sender", "TO", F::none,
     "relays for a sender at its own domain or name"},
    {B::trick_upper_case_domain, "trick_upper_case_domain", "TO", F::none,
     "relays for an upper-case recipient domain"},
    {B::trick_trailing_dot_domain, "trick_trailing_dot_domain", "TO", F::none,
     "relays for a recipient domain with a trailing dot"},
    {B::trick_unqualified_sender, "trick_unqualified_sender", "TO", F::none,
     "relays for an unqualified sender"},
    {B::trick_sender_localhost, "trick_sender_localhost", "TO", F::none,
     "relays for a sender @localhost"},
    {B::trick_sender_equals_recipient, "trick_sender_equals_recipient", "TO", F::none,
     "relays when the sender equals the recipient"},
    {B::trick_trailing_at, "trick_trailing_at", "TO", F::none, "relays for user@target@"},
    {B::trick_double_at, "trick_double_at", "TO", F::none,
     "relays for user@target@itself (its name or its address literal)"},
    {B::trick_sender_at_literal, "trick_sender_at_literal", "TO", F::none,
     "relays for a sender at its own address literal"},
    {B::trick_after_failed_auth, "trick_after_failed_auth", "TO", F::none,
     "relays after a failed AUTH"},
    {B::garbage_greeting, "garbage_greeting", "CONNECT", F::none, "non-SMTP bytes as greeting"},
    {B::garbage_reply, "garbage_reply", "EHLO", F::none, "greets, then garbage to every command"},
    {B::endless_line, "endless_line", "CONNECT", F::none, "a greeting line that never ends"},
    {B::reset_at_connect, "reset_at_connect", "CONNECT", F::none, "resets at once"},
    {B::reset_mid, "reset_mid", "MAIL", F::none, "resets after MAIL FROM"},
    {B::slow_bytes, "slow_bytes", "CONNECT", F::none,
     "greeting at one byte a second (CONNECT when the survey's timeout is shorter)"},
    {B::thousand_lines, "thousand_lines", "EHLO", F::none, "1000-line EHLO reply; closed"},
    {B::tarpit, "tarpit", "CONNECT", F::none,
     "tarpit: a greeting trickled a byte a second, never ended (CONNECT: timeout)"},
}};

constexpr std::array<const char*, 7> outcomes{"CONNECT", "EHLO", "MAIL", "TO",
                                              "DATA",    "OK",   "QUIT"};

}  // namespace

std::span<const BehaviourInfo> all_behaviours() {
  return table;
}

const BehaviourInfo& info(Behaviour b) {
  return table[static_cast<std::size_t>(b)];
}

std::optional<Behaviour> parse_behaviour(std::string_view name) {
  for (const auto& i : table) {
    if (name == i.name) return i.behaviour;
  }
  return std::nullopt;
}

const char* to_string(Fate f) {
  switch (f) {
    case Fate::none:
      return "none";
    case Fate::delivered:
      return "delivered";
    case Fate::bounced:
      return "bounced";
    case Fate::dropped:
      return "dropped";
  }
  return "none";
}

bool is_trick(Behaviour b) {
  return b >= Behaviour::trick_percent_hack && b <= Behaviour::trick_after_failed_auth;
}

bool has_listener(Behaviour b) {
  return b != Behaviour::refused;
}

bool accepts_any_recipient(Behaviour b) {
  switch (b) {
    case B::relay:
    case B::accept_drop:
    case B::bounce:
    case B::data_rejected:
    case B::message_rejected:
    case B::message_tempfail:
    case B::quit_error:
      return true;
    default:
      return false;
  }
}

bool greylistable(Behaviour b) {
  return b == B::relay_denied || b == B::helo_only || accepts_any_recipient(b);
}

std::vector<std::string> trick_variants(Behaviour b) {
  switch (b) {
    case B::trick_percent_hack:
      return {"percent-hack-literal", "percent-hack", "percent-hack-domain"};
    case B::trick_bang_path:
      return {"bang-path", "bang-path-literal", "bang-path-server", "bang-path-domain"};
    case B::trick_quoted_local:
      return {"quoted-at", "quoted-percent", "quoted-at-literal", "quoted-at-domain"};
    case B::trick_source_route:
      return {"source-route-literal", "source-route", "source-route-domain"};
    case B::trick_address_literal:
      return {"percent-hack-literal", "double-at-literal", "quoted-at-literal",
              "bang-path-literal"};
    case B::trick_null_sender:
      return {"null-sender"};
    case B::trick_spoofed_local_sender:
      return {"sender-at-target-domain", "sender-at-server-name"};
    case B::trick_upper_case_domain:
      return {"upper-case-domain"};
    case B::trick_trailing_dot_domain:
      return {"trailing-dot-domain"};
    case B::trick_unqualified_sender:
      return {"unqualified-sender"};
    case B::trick_sender_localhost:
      return {"sender-localhost"};
    case B::trick_sender_equals_recipient:
      return {"sender-equals-recipient"};
    case B::trick_trailing_at:
      return {"trailing-at"};
    case B::trick_double_at:
      return {"double-at-literal", "double-at-server"};
    // The nmap spellings send from the host's literal: a host that trusts
    // that sender relays every one of them, whatever the recipient's form.
    case B::trick_sender_at_literal:
      return {"sender-at-address-literal",
              "percent-hack-literal",
              "percent-hack",
              "quoted-at",
              "quoted-percent",
              "double-at-literal",
              "quoted-at-literal",
              "double-at-server",
              "source-route-literal",
              "source-route",
              "bang-path",
              "bang-path-literal",
              "bang-path-server"};
    case B::trick_after_failed_auth:
      return {"after-failed-auth"};
    default:
      return {};
  }
}

std::span<const char* const> imc_outcomes() {
  return outcomes;
}

bool is_outcome(std::string_view s) {
  for (const char* o : outcomes) {
    if (s == o) return true;
  }
  return false;
}

}  // namespace relayscope::lab
