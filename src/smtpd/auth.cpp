// STARTTLS and AUTH (see session_impl.hpp). AUTH drives the pure SASL
// exchange (sasl.hpp) over the client's lines; every AUTH that reaches a
// password check is answered a fixed time (plus jitter) after the
// credentials arrived, so the answer's timing tells nothing about which user
// names exist; failures count per address across sessions (AuthGuard).
#include <spdlog/spdlog.h>

#include <random>

#include "smtp/printable.hpp"
#include "smtpd/auth_guard.hpp"
#include "smtpd/sasl.hpp"
#include "smtpd/session_impl.hpp"

namespace relayscope::smtpd::detail {

asio::awaitable<Outcome> Session::on_starttls(const smtp::Command&) {
  if (!s_.tls) co_return Outcome{make_reply(502, "5.5.1 STARTTLS not available")};
  if (io_.tls_active()) co_return Outcome{make_reply(503, "5.5.1 TLS already active")};
  bool sent = co_await send_now(make_reply(220, "2.0.0 Ready to start TLS"));
  if (!sent) co_return Outcome{Reply{}, true};
  // Anything pipelined behind STARTTLS came in clear text and must not be
  // executed inside the TLS session (CVE-2011-0411 and its kin).
  in_.clear();
  auto r = co_await io_.start_tls(*s_.tls, Clock::now() + s_.command_timeout);
  if (!r) {
    log_info("TLS handshake failed: " + smtp::printable(r.detail));
    co_return Outcome{Reply{}, true};
  }
  // RFC 3207 4.2: forget everything learnt before the handshake.
  reset_transaction();
  phase_.greeted = false;
  env_ = Envelope{};
  co_return Outcome{Reply{}};
}

asio::awaitable<Outcome> Session::on_auth(const smtp::Command& c) {
  if (!s_.auth) co_return Outcome{make_reply(502, "5.5.1 AUTH not available")};
  if (!io_.tls_active() && !s_.auth_without_tls) {
    co_return Outcome{make_reply(530, "5.7.0 Must issue a STARTTLS command first")};
  }
  if (!env_.auth_user.empty()) co_return Outcome{make_reply(503, "5.5.1 Already authenticated")};
  if (s_.auth_guard && s_.auth_guard->blocked(client_.address, Clock::now())) {
    log_info("AUTH refused: too many recent failures from this address");
    co_return closing(421, "4.7.0 " + s_.hostname + " Too many AUTH failures, try again later");
  }
  SaslExchange sasl;
  auto step = sasl.start(c.argument);
  while (step.kind == SaslExchange::Kind::challenge) {
    bool asked = co_await send_now(make_reply(334, step.challenge));
    if (!asked) co_return Outcome{Reply{}, true};
    std::string line;
    auto got = co_await read_line(Clock::now() + s_.command_timeout, line);
    if (got == LineResult::too_long) {
      co_return Outcome{make_reply(500, "5.5.6 Line too long")};
    }
    if (got != LineResult::line) co_return Outcome{Reply{}, true};
    step = sasl.respond(line);
  }
  if (step.kind == SaslExchange::Kind::refused) co_return Outcome{step.reply};

  // The answer goes out at a fixed time after the credentials came.
  auto answer_at = Clock::now() + s_.auth_answer_time;
  if (s_.auth_jitter.count() > 0) {
    thread_local std::minstd_rand rng{std::random_device{}()};
    answer_at += std::chrono::milliseconds(rng() % (s_.auth_jitter.count() + 1));
  }
  auto creds = std::move(step.credentials);
  bool ok = co_await s_.auth->verify(creds.user, creds.password);
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(answer_at - Clock::now());
  co_await pause(wait);
  auto user = smtp::printable(creds.user, 64);
  if (ok) {
    env_.auth_user = creds.user;
    log_info("authenticated as " + user);
    co_return Outcome{make_reply(235, "2.7.0 Authentication successful")};
  }
  ++auth_failures_;
  if (s_.auth_guard) s_.auth_guard->failed(client_.address, Clock::now());
  spdlog::warn("session {} client={} AUTH failed for {} ({} of {})", client_.session_id,
               client_.address, user, auth_failures_, s_.max_auth_failures);
  // Slow down guessing: a growing pause on a timer (other sessions keep
  // running), then disconnect after too many failures.
  co_await pause(s_.auth_failure_delay * (1 << std::min(auth_failures_ - 1, 5)));
  if (auth_failures_ >= s_.max_auth_failures) {
    out_ += make_reply(535, "5.7.8 Authentication credentials invalid").wire();
    co_return closing(421, "4.7.0 " + s_.hostname + " Too many AUTH failures");
  }
  co_return Outcome{make_reply(535, "5.7.8 Authentication credentials invalid")};
}

}  // namespace relayscope::smtpd::detail
