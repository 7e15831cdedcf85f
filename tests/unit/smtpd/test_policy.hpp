// A small policy and authenticator for the session's unit tests: takes mail
// for local.test only (554 5.7.1 otherwise); alice's password is "secret".
#pragma once

#include "smtp/route.hpp"
#include "smtpd/dialogue.hpp"
#include "smtpd/session.hpp"

namespace relayscope::smtpd::test {

class LocalOnly final : public SessionPolicy {
 public:
  std::optional<smtp::Reply> check_recipient(const SessionView&, const smtp::Path& rcpt) override {
    if (rcpt.mailbox.host.text == "local.test") return std::nullopt;
    return smtp::make_reply(554, "5.7.1 Relaying denied");
  }
};

class FakeAuth final : public Authenticator {
 public:
  asio::awaitable<bool> verify(std::string user, std::string password) override {
    ++calls;
    co_return user == "alice" && password == "secret";
  }
  int calls = 0;
};

// Fast settings: no pause before the greeting, no AUTH padding.
inline SessionSettings fast_settings() {
  SessionSettings s;
  s.hostname = "mx.test";
  s.greet_pause = std::chrono::milliseconds(0);
  s.auth_answer_time = std::chrono::milliseconds(0);
  s.auth_jitter = std::chrono::milliseconds(0);
  s.auth_failure_delay = std::chrono::milliseconds(0);
  s.command_timeout = s.idle_timeout = s.data_timeout = std::chrono::seconds(5);
  return s;
}

}  // namespace relayscope::smtpd::test
