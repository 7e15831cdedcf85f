// The session's plain handlers (see session_impl.hpp): each returns its reply
// value and changes the session's phase; none writes.
#include <spdlog/spdlog.h>

#include "common/ascii.hpp"
#include "smtp/printable.hpp"
#include "smtpd/session_impl.hpp"

namespace relayscope::smtpd::detail {

namespace {

// What goes into the Received: header and logs of the client's EHLO name.
constexpr std::size_t max_helo_shown = 255;

using ascii::upper;  // one ASCII case helper (common/ascii.hpp)

}  // namespace

asio::awaitable<Outcome> Session::on_ehlo(const smtp::Command& c) {
  reset_transaction();
  phase_.greeted = true;
  env_.helo = smtp::printable(c.argument, max_helo_shown);
  env_.esmtp = true;
  std::string text = s_.hostname + " greets " + env_.helo;
  text += "\nPIPELINING\nSIZE " + std::to_string(s_.max_message_size);
  text += "\n8BITMIME\nENHANCEDSTATUSCODES";
  if (s_.tls && !io_.tls_active()) text += "\nSTARTTLS";
  if (s_.auth && io_.tls_active()) text += "\nAUTH PLAIN LOGIN";
  co_return Outcome{make_reply(250, text)};
}

asio::awaitable<Outcome> Session::on_helo(const smtp::Command& c) {
  reset_transaction();
  phase_.greeted = true;
  env_.helo = smtp::printable(c.argument, max_helo_shown);
  env_.esmtp = false;
  co_return Outcome{make_reply(250, s_.hostname)};
}

asio::awaitable<Outcome> Session::on_mail(const smtp::Command& c) {
  for (const auto& [key, value] : c.params) {
    if (key == "SIZE") {
      char* end = nullptr;
      auto n = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0')
        co_return Outcome{make_reply(501, "5.5.4 Bad SIZE parameter")};
      if (n > s_.max_message_size) {
        co_return Outcome{make_reply(
            552, "5.3.4 Message size exceeds the limit of " + std::to_string(s_.max_message_size))};
      }
    } else if (key == "BODY") {
      auto v = upper(value);
      if (v != "7BIT" && v != "8BITMIME")
        co_return Outcome{make_reply(501, "5.5.4 Bad BODY parameter")};
    } else if (key == "AUTH") {
      // RFC 4954 5: accepted and not trusted.
    } else {
      co_return Outcome{make_reply(555, "5.5.4 Unsupported parameter " + smtp::printable(key, 64))};
    }
  }
  // RFC 6409 4.3: a submission listener takes mail from logged-in users only.
  if (s_.require_auth && env_.auth_user.empty()) {
    co_return Outcome{make_reply(530, "5.7.0 Authentication required")};
  }
  env_.authorised = !env_.auth_user.empty();
  env_.authorised_user = env_.auth_user;
  if (!env_.authorised) {
    if (auto grant = policy_.authorise(view())) {
      env_.authorised = true;
      env_.authorised_user = grant->user;
      log_info("authorised by " + grant->how +
               (grant->user.empty() ? std::string() : " of " + grant->user));
    }
  }
  if (auto refusal = policy_.check_sender(view(), c.path)) {
    env_.authorised = false;
    env_.authorised_user.clear();
    co_return Outcome{*refusal};
  }
  env_.mail_from = c.path.null ? std::string() : c.path.mailbox.wire();
  env_.recipients.clear();
  env_.tls = io_.tls_active();
  phase_.in_mail = true;
  phase_.has_rcpt = false;
  overshoot_ = 0;
  co_return Outcome{make_reply(250, "2.1.0 Ok")};
}

asio::awaitable<Outcome> Session::on_rcpt(const smtp::Command& c) {
  if (!c.params.empty()) {
    co_return Outcome{make_reply(
        555, "5.5.4 Unsupported parameter " + smtp::printable(c.params.front().first, 64))};
  }
  if (env_.recipients.size() >= s_.max_recipients) {
    // Past the limit and then past the overshoot: a client that does not
    // listen to 452 (Postfix smtpd_recipient_overshoot_limit).
    if (++overshoot_ > s_.recipient_overshoot) {
      log_info("too many recipients past the limit");
      co_return closing(421, "4.5.3 " + s_.hostname + " Too many recipients, closing");
    }
    co_return Outcome{make_reply(452, "4.5.3 Too many recipients")};
  }
  if (auto refusal = policy_.check_recipient(view(), c.path)) co_return Outcome{*refusal};
  env_.recipients.push_back(c.path.mailbox.wire());
  phase_.has_rcpt = true;
  co_return Outcome{make_reply(250, "2.1.5 Ok")};
}

std::optional<Outcome> Session::raw_mail_rcpt(std::string_view line) {
  auto verb = upper(line.substr(0, 5));
  bool mail = verb == "MAIL ";
  if (!mail && verb != "RCPT ") return std::nullopt;
  // Only in sequence and under the recipient limit: otherwise the parsed
  // command's own answer (503, 452) is the one to give.
  if (check_sequence(command_spec(mail ? smtp::Verb::mail : smtp::Verb::rcpt), phase_)) {
    return std::nullopt;
  }
  if (!mail && env_.recipients.size() >= s_.max_recipients) return std::nullopt;
  auto raw = policy_.raw_command(view(), line);
  if (!raw) return std::nullopt;
  // A positive answer takes the line as written.
  if (raw->positive()) {
    auto colon = line.find(':');
    auto path =
        std::string(colon == std::string_view::npos ? line.substr(5) : line.substr(colon + 1));
    if (mail) {
      env_.mail_from = path;
      env_.recipients.clear();
      env_.tls = io_.tls_active();
      phase_.in_mail = true;
      phase_.has_rcpt = false;
    } else {
      env_.recipients.push_back(path);
      phase_.has_rcpt = true;
    }
  }
  return Outcome{*raw};
}

asio::awaitable<Outcome> Session::on_rset(const smtp::Command&) {
  reset_transaction();
  co_return Outcome{make_reply(250, "2.0.0 Ok")};
}

asio::awaitable<Outcome> Session::on_noop(const smtp::Command&) {
  co_return Outcome{make_reply(250, "2.0.0 Ok")};
}

asio::awaitable<Outcome> Session::on_quit(const smtp::Command&) {
  co_return Outcome{make_reply(221, "2.0.0 Bye"), true};
}

asio::awaitable<Outcome> Session::on_vrfy(const smtp::Command&) {
  co_return Outcome{make_reply(252, "2.5.2 Cannot VRFY user, but will accept")};
}

asio::awaitable<Outcome> Session::on_expn(const smtp::Command&) {
  co_return Outcome{make_reply(502, "5.5.1 EXPN not available")};
}

asio::awaitable<Outcome> Session::on_help(const smtp::Command&) {
  co_return Outcome{make_reply(
      214, "2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH")};
}

asio::awaitable<Outcome> Session::on_bdat(const smtp::Command&) {
  co_return Outcome{make_reply(502, "5.5.1 BDAT not available: use DATA")};
}

}  // namespace relayscope::smtpd::detail
