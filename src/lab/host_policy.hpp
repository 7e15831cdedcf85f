// The lab's policy on the one server session (src/smtpd): per host, what the
// plan says it does at each step (relay or deny, greylist, refuse MAIL, DATA
// or the message), the texts of its replies (its hosts must sound like the
// servers they imitate, not like relayscope), and its timing (greeting delay,
// round trip before each reply, error sleep before each 4xx/5xx, 421 after
// N errors). Trick hosts see the raw MAIL/RCPT line before the parser may
// refuse it, and decode its path the way old MTAs did (tricks.hpp).
#pragma once

#include <functional>

#include "lab/host_context.hpp"
#include "smtpd/session.hpp"

namespace relayscope::lab {

class HostPolicy final : public smtpd::SessionPolicy, public smtpd::Authenticator {
 public:
  // `reset`: ends the connection with a TCP reset (reset_mid hosts).
  HostPolicy(HostContext& ctx, std::function<void()> reset) : ctx_(ctx), reset_(std::move(reset)) {}

  std::optional<smtp::Reply> greeting(const smtpd::SessionView& s) override;
  asio::awaitable<bool> before_reply(const smtpd::SessionView& s,
                                     const smtp::Reply& reply) override;
  std::optional<smtp::Reply> close_after(const smtpd::SessionView& s,
                                         const smtp::Reply& reply) override;
  std::optional<smtp::Reply> check_command(const smtpd::SessionView& s,
                                           const smtp::Command& c) override;
  std::optional<smtp::Reply> raw_command(const smtpd::SessionView& s,
                                         std::string_view line) override;
  std::optional<smtp::Reply> check_sender(const smtpd::SessionView& s,
                                          const smtp::Path& from) override;
  std::optional<smtp::Reply> check_recipient(const smtpd::SessionView& s,
                                             const smtp::Path& rcpt) override;
  void shape_reply(const smtpd::SessionView& s, smtp::Verb verb, smtp::Reply& reply) override;
  // trick_after_failed_auth hosts offer AUTH and refuse every password.
  asio::awaitable<bool> verify(std::string user, std::string password) override;

 private:
  // The verdicts on a MAIL / RCPT line's path as the lab decodes it; a
  // refusal, or nothing (accepted).
  std::optional<smtp::Reply> sender_verdict(std::string_view line);
  std::optional<smtp::Reply> recipient_verdict(const smtpd::SessionView& s, std::string_view line);
  // Greylisting (timing.hpp): true while the triplet waits out its delay.
  bool greylisted_now(const std::string& client, const std::string& recipient);
  std::string ehlo_text(const smtpd::SessionView& s) const;

  HostContext& ctx_;
  std::function<void()> reset_;
  bool greeted_ = false;        // the greeting went out
  bool was_reset_ = false;      // reset_mid did its reset
  std::size_t rejections_ = 0;  // errors sent that count towards close_after_errors
  bool auth_failed_ = false;
  DecodedPath sender_;  // of the current transaction, for the tricks
};

// The session's settings for one lab host: the hub's limits; no pause
// before the greeting, no AUTH timing padding (the lab's hosts imitate
// plain MTAs of every age, not relayscope's relay). `auth` answers AUTH on
// trick_after_failed_auth hosts.
smtpd::SessionSettings host_settings(const HostContext& ctx, smtpd::Authenticator* auth);

}  // namespace relayscope::lab
