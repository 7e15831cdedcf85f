// See host_policy.hpp. The reply texts below are the lab hosts' own (a
// Postfix-like MTA's wording), not the relay's: the survey must meet servers
// that sound like those on the Internet.
#include "lab/host_policy.hpp"

#include <cstdio>

#include "common/ascii.hpp"

namespace relayscope::lab {

namespace {

using B = Behaviour;
using smtp::make_reply;
using smtp::Reply;

std::optional<DecodedPath> path_of_line(std::string_view line, const HostIdentity& self) {
  auto raw = raw_path_of(line);
  return raw ? decode_path(*raw, self) : std::nullopt;
}

}  // namespace

// The session's settings for one lab host: the hub's limits; no pause
// before the greeting, no AUTH timing padding (the lab's hosts imitate
// plain MTAs of every age, not relayscope's relay).
smtpd::SessionSettings host_settings(const HostContext& ctx, smtpd::Authenticator* auth) {
  const auto& limits = ctx.hub.limits;
  smtpd::SessionSettings s;
  s.hostname = ctx.self.name;
  s.max_message_size = limits.max_message;
  s.max_recipients = limits.max_recipients;
  s.max_errors = static_cast<int>(limits.max_errors);
  s.max_line_length = limits.max_line;
  s.command_timeout = limits.command_timeout;
  s.idle_timeout = limits.command_timeout;
  s.data_timeout = limits.command_timeout;
  s.greet_pause = std::chrono::milliseconds(0);
  s.tls = ctx.behaviour == Behaviour::starttls ? ctx.hub.tls.get() : nullptr;
  s.auth = ctx.behaviour == Behaviour::trick_after_failed_auth ? auth : nullptr;
  s.auth_without_tls = true;
  s.max_auth_failures = 1000;
  s.auth_failure_delay = std::chrono::milliseconds(0);
  s.auth_answer_time = std::chrono::milliseconds(0);
  s.auth_jitter = std::chrono::milliseconds(0);
  return s;
}

std::optional<Reply> HostPolicy::greeting(const smtpd::SessionView&) {
  const auto& name = ctx_.self.name;
  switch (ctx_.behaviour) {
    case B::greeting_554:
      return make_reply(554, "5.3.2 " + name + " No SMTP service here");
    case B::slow_greeting:
      // Several lines that host_stream.cpp spreads over slow_greeting_ms.
      return make_reply(220, name +
                                 " ESMTP relayscope-lab\nplease wait (1)\nplease wait (2)\n"
                                 "please wait (3)\n" +
                                 name + " ready");
    case B::slow_bytes:
      return make_reply(220, name + " ESMTP");
    default:
      return make_reply(220, name + " ESMTP relayscope-lab");
  }
}

asio::awaitable<bool> HostPolicy::before_reply(const smtpd::SessionView&, const Reply& reply) {
  const auto& delays = ctx_.hub.delays;
  int ms = 0;
  if (!greeted_) {
    greeted_ = true;
    ms = delays.greeting_ms + ctx_.jitter() + ctx_.timing.greeting_ms + ctx_.timing.rtt_ms;
  } else {
    ms = delays.reply_ms + ctx_.jitter() + ctx_.timing.rtt_ms;
    if (reply.code >= 400) ms += ctx_.hub.timing.error_sleep_ms;
    if (counts_towards_error_limit(ctx_.hub.timing.close_after_errors_kind, reply.code)) {
      ++rejections_;
    }
  }
  bool go_on = co_await ctx_.pause(ms);
  co_return go_on;
}

std::optional<Reply> HostPolicy::close_after(const smtpd::SessionView&, const Reply&) {
  if (was_reset_) return make_reply(421, "4.4.2 " + ctx_.self.name + " Connection reset");
  const auto limit = ctx_.timing.close_after_errors;
  if (limit > 0 && rejections_ >= limit) {
    return make_reply(421, "4.7.0 " + ctx_.self.name + " Too many errors; closing");
  }
  return std::nullopt;
}

std::optional<Reply> HostPolicy::check_command(const smtpd::SessionView&, const smtp::Command& c) {
  if (ctx_.behaviour == B::helo_only && c.verb == smtp::Verb::ehlo) {
    return make_reply(500, "5.5.1 Command unrecognized: \"EHLO\"");
  }
  if (ctx_.behaviour == B::data_rejected && c.verb == smtp::Verb::data) {
    return make_reply(554, "5.5.1 DATA not accepted here");
  }
  return std::nullopt;
}

std::optional<Reply> HostPolicy::raw_command(const smtpd::SessionView& s, std::string_view line) {
  // Only trick hosts take what the parser refuses; a line it accepts goes
  // the session's own way (check_sender / check_recipient, same verdicts).
  if (!is_trick(ctx_.behaviour)) return std::nullopt;
  if (smtp::parse_command_or_reply(line, true).command) return std::nullopt;
  if (ascii::iequals(line.substr(0, 5), "MAIL ")) {
    auto refusal = sender_verdict(line);
    return refusal ? refusal : make_reply(250, "2.1.0 Ok");
  }
  auto refusal = recipient_verdict(s, line);
  return refusal ? refusal : make_reply(250, "2.1.5 Ok");
}

std::optional<Reply> HostPolicy::check_sender(const smtpd::SessionView& s, const smtp::Path&) {
  return sender_verdict(s.line);
}

std::optional<Reply> HostPolicy::check_recipient(const smtpd::SessionView& s, const smtp::Path&) {
  return recipient_verdict(s, s.line);
}

std::optional<Reply> HostPolicy::sender_verdict(std::string_view line) {
  if (ctx_.behaviour == B::mail_rejected) {
    return make_reply(550, "5.7.1 Sender rejected by local policy");
  }
  if (ctx_.behaviour == B::reset_mid) {
    reset_();
    was_reset_ = true;
    return make_reply(421, "4.4.2 " + ctx_.self.name + " Connection reset");
  }
  auto decoded = path_of_line(line, ctx_.self);
  if (!decoded) return make_reply(501, "5.1.7 Bad sender address syntax");
  sender_ = std::move(*decoded);
  return std::nullopt;
}

std::optional<Reply> HostPolicy::recipient_verdict(const smtpd::SessionView& s,
                                                   std::string_view line) {
  const auto b = ctx_.behaviour;
  auto decoded = path_of_line(line, ctx_.self);
  if (!decoded || decoded->null) return make_reply(501, "5.1.3 Bad recipient address syntax");
  const std::string shown = "<" + decoded->raw + ">";
  if (greylisted_now(s.client.address, decoded->raw)) {
    return make_reply(
        450, "4.2.0 " + shown + ": Recipient address rejected: Greylisted, try again later");
  }
  if (b == B::greylist) {
    return make_reply(
        450, "4.7.1 " + shown + ": Recipient address rejected: Greylisted, try again later");
  }
  const bool local = decoded->domain.empty() || ctx_.self.is_self(decoded->domain);
  if (local || accepts_any_recipient(b)) return std::nullopt;
  if (is_trick(b) && trick_relays(b, EnvelopeFacts{sender_, *decoded, auth_failed_}, ctx_.self)) {
    return std::nullopt;
  }
  return make_reply(554, "5.7.1 " + shown + ": Relay access denied");
}

bool HostPolicy::greylisted_now(const std::string& client, const std::string& recipient) {
  if (!ctx_.timing.greylist) return false;
  // Postgrey's key: the client's address, the sender, the recipient.
  std::string key = client + '\n' + sender_.raw + '\n' + recipient;
  const auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = ctx_.hub.greylist_first_seen.try_emplace(std::move(key), now);
  if (fresh) return true;
  return now - it->second < std::chrono::milliseconds(ctx_.hub.timing.greylist_delay_ms);
}

std::string HostPolicy::ehlo_text(const smtpd::SessionView& s) const {
  const auto b = ctx_.behaviour;
  auto helo = s.helo.substr(0, s.helo.find(' '));
  std::string text = ctx_.self.name + " Hello " + helo + " [" + s.client.address + "]";
  if (b == B::thousand_lines) {
    for (int i = 1; i < 999; ++i) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "\nX-LAB-FILLER-%03d this server talks too much", i);
      text += buf;
    }
    return text + "\nHELP";
  }
  // PIPELINING as Postfix, Exim and Sendmail offer it (RFC 2920), right
  // after the name: the session takes pipelined commands in any profile.
  text += "\nPIPELINING\nSIZE " + std::to_string(ctx_.hub.limits.max_message) + "\n8BITMIME";
  if (b == B::starttls && ctx_.hub.tls && !s.tls) text += "\nSTARTTLS";
  if (b == B::trick_after_failed_auth) text += "\nAUTH PLAIN LOGIN";
  return text + "\nHELP";
}

void HostPolicy::shape_reply(const smtpd::SessionView& s, smtp::Verb verb, Reply& reply) {
  const auto& name = ctx_.self.name;
  using V = smtp::Verb;
  if (verb == V::ehlo && reply.code == 250) {
    reply = make_reply(250, ehlo_text(s));
  } else if (verb == V::quit && ctx_.behaviour == B::quit_error) {
    reply = make_reply(421, "4.3.0 " + name + " Error closing transmission channel");
  } else if (verb == V::quit) {
    reply = make_reply(221, "2.0.0 " + name + " Bye");
  } else if (verb == V::vrfy && reply.code == 252) {
    reply = make_reply(252, "2.0.0 Cannot VRFY user, but will accept message");
  } else if (verb == V::help && reply.code == 214) {
    reply = make_reply(214, "2.0.0 relayscope lab host; see RFC 5321");
  } else if (verb == V::bdat && reply.code == 502) {
    reply = make_reply(502, "5.5.1 BDAT not supported");
  } else if (verb == V::auth && reply.code == 502) {
    reply = make_reply(502, "5.5.1 AUTH not supported");
  }
}

asio::awaitable<bool> HostPolicy::verify(std::string, std::string) {
  auth_failed_ = true;
  co_return false;
}

}  // namespace relayscope::lab
