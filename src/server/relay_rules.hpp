// Issue 14's rules on top of the relay's four (DESIGN.md "The relay policy";
// they come in addition, never instead): known recipients (users, [aliases],
// postmaster; 550 5.1.1 otherwise), senders bound to logins (553 5.7.1 at
// MAIL FROM, 550 5.7.1 for the From: header after DATA) and limits per user
// and per client address (450 4.7.1 with the time to wait). The relay's
// session policy asks RelayRules at MAIL and RCPT; RulesSink sits in front of
// the spool's sink: it expands aliases into the envelope the spool keeps,
// checks the From: header before the message is committed and counts the
// message once it is accepted.
//
// Alias expansion happens when the message is accepted (at DATA, into the
// spool's envelope), not at delivery: the queue, `relayscope queue`, the
// delivery log and the DSNs then name where the mail really goes; copies
// for one user reached through several RCPTs (sales@ and alice@) collapse
// into one; and a reload changing [aliases] never retargets mail that was
// already accepted under the old table.
//
// Used on the relay's network thread only (sessions, SIGHUP reload); the
// rate limiter has its own lock.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/config.hpp"
#include "server/policy.hpp"
#include "server/rate_limiter.hpp"
#include "server/recipients.hpp"
#include "server/sender_binding.hpp"
#include "smtpd/session.hpp"

namespace relayscope::server {

// The seam for the sender binding: the user a session's senders are bound
// to. Today the AUTH login; a POP-before-SMTP window granted with --user
// binds like AUTH (issue 14, 3.): its user is returned here when the
// session has no AUTH login. Empty: no binding (unauthenticated clients on
// local networks, windows without --user keep today's behaviour).
std::string bound_user(const smtpd::SessionView& s);
std::string bound_user(const smtpd::Envelope& e);

class RelayRules {
 public:
  using Clock = RateLimiter::Clock;
  using Now = std::function<Clock::time_point()>;

  // users: the users file's names (lower case); empty without a users file
  // (then only aliases and postmaster are local mailboxes). `now` is the
  // clock of the rate limits (tests pass a fake one).
  RelayRules(const RelayPolicy& policy, const Config& config, std::vector<std::string> users,
             Now now = {});

  // SIGHUP: the new [aliases], [senders], [rate_limits], local domains and
  // users. The counts of the last hour are kept.
  void replace(const Config& config, std::vector<std::string> users);

  // At MAIL FROM: the sender binding, then the message limits.
  std::optional<smtp::Reply> check_sender(const smtpd::SessionView& s, const smtp::Path& from);
  // At RCPT TO, once the four rules accepted `rcpt`: a local one must be a
  // known recipient; then the recipient limits.
  std::optional<smtp::Reply> check_recipient(const smtpd::SessionView& s, const smtp::Path& rcpt);

  // The recipients the spool keeps: local ones replaced by the Maildirs
  // ("user@domain") and outside addresses they resolve to, remote ones as
  // written; each once. A local recipient that no longer resolves (a reload
  // since its RCPT) is dropped and logged.
  std::vector<std::string> expand(const std::vector<std::string>& recipients) const;

  // After DATA, before the commit: nullopt, or the 550 5.7.1 refusal of a
  // From: header naming an address `user` may not send as.
  std::optional<smtp::Reply> check_from_header(const std::string& user,
                                               std::string_view header_section) const;
  // A message was accepted (250): it counts against the limits.
  void count_message(const std::string& user, const smtpd::ClientInfo& client,
                     std::size_t recipients);

  const RecipientMap& recipients() const { return map_; }

 private:
  const RelayPolicy& policy_;
  RecipientMap map_;
  SenderBinding binding_;
  RateLimiter limiter_;
  Now now_;
};

// The sink in front of the spool's (see the file comment).
class RulesSink : public smtpd::MessageSink {
 public:
  RulesSink(smtpd::MessageSink& inner, RelayRules& rules) : inner_(inner), rules_(rules) {}
  asio::awaitable<std::unique_ptr<smtpd::MessageWriter>> open(
      const smtpd::ClientInfo& client, const smtpd::Envelope& envelope) override;

 private:
  smtpd::MessageSink& inner_;
  RelayRules& rules_;
};

}  // namespace relayscope::server
