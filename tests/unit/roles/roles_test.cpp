// Listener roles over the relay's own policy, in memory: submission asks AUTH
// before MAIL (530 5.7.0) and never lets local networks relay; submissions
// is TLS from the first byte; per-listener limits; POP-before-SMTP windows
// authorise relaying on mx listeners only and name their user.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "server/config.hpp"
#include "server/config_check.hpp"
#include "server/policy.hpp"
#include "server/relay_parts.hpp"
#include "server/relay_windows.hpp"
#include "server/reload.hpp"
#include "smtpd/dialogue.hpp"

namespace relayscope::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class AliceAuth final : public smtpd::Authenticator {
 public:
  asio::awaitable<bool> verify(std::string user, std::string password) override {
    co_return user == "alice" && password == "secret";
  }
};

// The dialogue client is 192.0.2.7; here it is on a local network, so any
// relaying it gets on submission would be the local-networks rule leaking.
class Roles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("relayscope-roles-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    for (const char* f : {"cert.pem", "key.pem", "users"}) std::ofstream(dir_ / f) << "x\n";
    auto text = std::string(R"(
[server]
listen = ["127.0.0.1:2525"]
hostname = "mx.test"
[[listener]]
address = "127.0.0.1:2587"
role = "submission"
max_recipients = 2
[[listener]]
address = "127.0.0.1:2465"
role = "submissions"
max_message_size = 4096
[policy]
local_networks = ["192.0.2.0/24"]
local_domains = ["local.test"]
[mailboxes]
root = "/nonexistent/mail"
[spool]
dir = "/nonexistent/spool"
[delivery]
smarthost = "127.0.0.1:2601"
[timeouts]
greet_pause = "0s"
[tls]
cert = "cert.pem"
key = "key.pem"
[auth]
users_file = "users"
[pop_before_smtp]
window = "10m"
dir = "windows"
)");
    auto c = parse_config(text, (dir_ / "relay.toml").string());
    ASSERT_TRUE(c) << c.error().message;
    config_ = *c;
    ASSERT_EQ(config_.listeners.size(), 3u);
    base_ = session_settings(config_);
    base_.tls = &tls_;
    base_.auth = &auth_;
    base_.auth_answer_time = base_.auth_jitter = base_.auth_failure_delay = 0ms;
    policy_ = std::make_unique<RelayPolicy>(config_.local_networks, config_.local_domains);
    session_policy_ = std::make_unique<RelaySessionPolicy>(*policy_, nullptr);
    windows_ = std::make_unique<RelayWindows>(config_.pop_before_smtp.dir);
    session_policy_->set_windows(windows_.get());
  }
  void TearDown() override { fs::remove_all(dir_); }

  smtpd::SessionSettings role(std::size_t i) {
    return listener_settings(base_, config_.listeners[i]);
  }

  smtpd::DialogueResult go(const std::string& script, const smtpd::SessionSettings& s) {
    return smtpd::run_dialogue(script, s, *session_policy_, sink_);
  }

  fs::path dir_;
  Config config_;
  asio::ssl::context tls_{asio::ssl::context::tls_server};
  AliceAuth auth_;
  smtpd::SessionSettings base_;
  std::unique_ptr<RelayPolicy> policy_;
  std::unique_ptr<RelaySessionPolicy> session_policy_;
  std::unique_ptr<RelayWindows> windows_;
  smtpd::MemorySink sink_;
};

// AUTH PLAIN of alice / secret.
const std::string auth_plain = "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\nS: 235\n";
const std::string message = "C: DATA\nS: 354\nC: Subject: hi\nC:\nC: hello\nC: .\nS: 250\n";

TEST_F(Roles, ListenerSettingsFollowTheRole) {
  auto mx = role(0), sub = role(1), subs = role(2);
  EXPECT_EQ(mx.role, smtpd::ListenerRole::mx);
  EXPECT_FALSE(mx.require_auth);
  EXPECT_FALSE(mx.implicit_tls);
  EXPECT_EQ(sub.role, smtpd::ListenerRole::submission);
  EXPECT_TRUE(sub.require_auth);
  EXPECT_FALSE(sub.implicit_tls);
  EXPECT_EQ(sub.greet_pause, 0ms);
  EXPECT_EQ(subs.role, smtpd::ListenerRole::submissions);
  EXPECT_TRUE(subs.require_auth);
  EXPECT_TRUE(subs.implicit_tls);
  EXPECT_EQ(subs.greet_pause, 0ms);
  // Per-listener limits override [limits]; the others keep [limits].
  EXPECT_EQ(sub.max_recipients, 2u);
  EXPECT_EQ(subs.max_message_size, 4096u);
  EXPECT_EQ(mx.max_recipients, config_.limits.max_recipients);
  EXPECT_EQ(sub.max_message_size, config_.limits.max_message_size);
}

TEST_F(Roles, CheckConfigAcceptsEveryRole) {
  ConfigReport report;
  check_static(config_, false, report);
  EXPECT_TRUE(report.ok()) << (report.errors.empty() ? "" : report.errors.front());
}

TEST_F(Roles, ReloadNamesListenerChangesAsNeedingARestart) {
  auto next = config_;
  EXPECT_TRUE(needs_restart(config_, next, false).empty());
  next.listeners[1].max_recipients = 7;
  auto why = needs_restart(config_, next, false);
  ASSERT_EQ(why.size(), 1u);
  EXPECT_EQ(why[0], "listener: fixed at start-up");
  next = config_;
  next.pop_before_smtp.window = std::chrono::minutes(20);  // read by each grant
  EXPECT_TRUE(needs_restart(config_, next, false).empty());
  next.pop_before_smtp.dir = "/elsewhere";
  EXPECT_EQ(needs_restart(config_, next, false).size(), 1u);
}

TEST_F(Roles, MxLetsTheLocalNetworkRelayAsToday) {
  auto r =
      go("S: 220\nC: EHLO c.test\nS: 250\nC: MAIL FROM:<a@local.test>\nS: 250\n"
         "C: RCPT TO:<b@remote.test>\nS: 250\nC: QUIT\nS: 221\n",
         role(0));
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
}

TEST_F(Roles, SubmissionAsksAuthBeforeMailEvenFromALocalNetwork) {
  // STARTTLS offered, AUTH not before TLS; MAIL before AUTH: 530 5.7.0, in
  // clear text and under TLS alike.
  auto r =
      go("S: 220\nC: EHLO c.test\nS: 250\nC: MAIL FROM:<a@local.test>\n"
         "S: 530 5.7.0 Authentication required\nC: STARTTLS\nS: 220\nC: EHLO c.test\n"
         "S: 250\nC: MAIL FROM:<a@local.test>\nS: 530 5.7.0 Authentication required\n"
         "C: RCPT TO:<b@local.test>\nS: 503\nC: QUIT\nS: 221\n",
         role(1));
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
  EXPECT_NE(r.transcript.find("STARTTLS"), std::string::npos);
  auto first_ehlo = r.transcript.substr(0, r.transcript.find("530"));
  EXPECT_EQ(first_ehlo.find("AUTH"), std::string::npos) << "AUTH is offered under TLS only";
  EXPECT_TRUE(sink_.messages.empty());
}

TEST_F(Roles, SubmissionRelaysAfterAuthAndObeysItsOwnLimits) {
  auto r = go("S: 220\nC: EHLO c.test\nS: 250\nC: STARTTLS\nS: 220\nC: EHLO c.test\nS: 250\n" +
                  auth_plain +
                  "C: MAIL FROM:<alice@local.test>\nS: 250\nC: RCPT TO:<b@remote.test>\nS: 250\n"
                  "C: RCPT TO:<c@remote.test>\nS: 250\nC: RCPT TO:<d@remote.test>\nS: 452\n" +
                  message + "C: QUIT\nS: 221\n",
              role(1));
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
  ASSERT_EQ(sink_.envelopes.size(), 1u);
  EXPECT_EQ(sink_.envelopes[0].auth_user, "alice");
  EXPECT_EQ(sink_.envelopes[0].authorised_user, "alice");
  EXPECT_TRUE(sink_.envelopes[0].authorised);
}

TEST_F(Roles, SubmissionsIsTlsFromTheFirstByteAndAsksAuth) {
  // The client speaks first (its TLS hello): never an early talker here.
  auto s = role(2);
  s.greet_pause = 2000ms;  // even if a pause were configured
  auto r = go("C: EHLO eager.test\nS: 220\nS: 250\nC: MAIL FROM:<a@local.test>\nS: 530 5.7.0\n" +
                  auth_plain +
                  "C: MAIL FROM:<alice@local.test>\nS: 250\n"
                  "C: RCPT TO:<b@remote.test>\nS: 250\nC: QUIT\nS: 221\n",
              s);
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
  EXPECT_EQ(r.transcript.find("STARTTLS"), std::string::npos) << "already TLS";
  EXPECT_NE(r.transcript.find("AUTH PLAIN LOGIN"), std::string::npos);
}

TEST_F(Roles, RecipientCheckRefusesUnauthenticatedOnSubmissionWhateverTheSessionDid) {
  // The policy's own guard: a submission session without AUTH relays
  // nothing, not even to a local mailbox, from a local network.
  smtpd::ClientInfo client;
  client.address = "192.0.2.7";
  client.ip = IpAddress::parse(client.address);
  client.role = smtpd::ListenerRole::submission;
  std::string helo = "c.test", none;
  smtpd::SessionView view{client, helo, true, none};
  auto rcpt = smtp::parse_command("RCPT TO:<b@remote.test>", true);
  ASSERT_TRUE(rcpt);
  auto refusal = session_policy_->check_recipient(view, rcpt->path);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, 530);
  auto local = smtp::parse_command("RCPT TO:<b@local.test>", true);
  EXPECT_TRUE(session_policy_->check_recipient(view, local->path));
  client.role = smtpd::ListenerRole::mx;
  EXPECT_FALSE(session_policy_->check_recipient(view, rcpt->path)) << "mx: the local network";
}

class Windows : public Roles {
 protected:
  void SetUp() override {
    Roles::SetUp();
    // The dialogue client 192.0.2.7 is a stranger here.
    policy_ = std::make_unique<RelayPolicy>(CidrSet{}, config_.local_domains);
    session_policy_ = std::make_unique<RelaySessionPolicy>(*policy_, nullptr);
    session_policy_->set_windows(windows_.get());
  }
  void grant(const std::string& user, WallClock::time_point when = WallClock::now(),
             std::chrono::milliseconds length = 10min) {
    auto w = grant_window(config_.pop_before_smtp.dir, *IpAddress::parse("192.0.2.7"), user, length,
                          when);
    ASSERT_TRUE(w) << w.error().message;
  }
};

const std::string relay_attempt =
    "S: 220\nC: EHLO c.test\nS: 250\nC: MAIL FROM:<alice@local.test>\nS: 250\n"
    "C: RCPT TO:<b@remote.test>\n";

TEST_F(Windows, NoWindowNoRelaying) {
  auto r = go(relay_attempt + "S: 554 5.7.1\nC: QUIT\nS: 221\n", role(0));
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
}

TEST_F(Windows, AnOpenWindowAuthorisesOnMxAndNamesItsUser) {
  grant("alice");
  auto r = go(relay_attempt + "S: 250\n" + message + "C: QUIT\nS: 221\n", role(0));
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
  ASSERT_EQ(sink_.envelopes.size(), 1u);
  EXPECT_TRUE(sink_.envelopes[0].authorised);
  EXPECT_EQ(sink_.envelopes[0].authorised_user, "alice") << "binds the sender like AUTH";
  EXPECT_EQ(sink_.envelopes[0].auth_user, "") << "not an AUTH login";
}

TEST_F(Windows, AWindowWithoutAUserAuthorisesWithoutBinding) {
  grant("");
  auto r = go(relay_attempt + "S: 250\n" + message + "C: QUIT\nS: 221\n", role(0));
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
  ASSERT_EQ(sink_.envelopes.size(), 1u);
  EXPECT_TRUE(sink_.envelopes[0].authorised);
  EXPECT_EQ(sink_.envelopes[0].authorised_user, "");
}

TEST_F(Windows, WindowsDoNotCountOnSubmissionListeners) {
  grant("alice");
  for (std::size_t i : {1u, 2u}) {
    auto s = role(i);
    std::string start = i == 1 ? "S: 220\nC: EHLO c.test\nS: 250\nC: STARTTLS\nS: 220\n"
                                 "C: EHLO c.test\nS: 250\n"
                               : "S: 220\nC: EHLO c.test\nS: 250\n";
    auto r = go(start + "C: MAIL FROM:<alice@local.test>\nS: 530 5.7.0\nC: QUIT\nS: 221\n", s);
    EXPECT_TRUE(r.ok) << i << ": " << r.failure << "\n" << r.transcript;
  }
}

TEST_F(Windows, AnExpiredWindowClosesWithoutARestart) {
  grant("alice", WallClock::now() - 1h, 10min);
  auto r = go(relay_attempt + "S: 554 5.7.1\nC: QUIT\nS: 221\n", role(0));
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
}

TEST_F(Windows, AWindowOfAnotherAddressDoesNothing) {
  ASSERT_TRUE(grant_window(config_.pop_before_smtp.dir, *IpAddress::parse("192.0.2.8"), "alice",
                           10min, WallClock::now()));
  auto r = go(relay_attempt + "S: 554 5.7.1\nC: QUIT\nS: 221\n", role(0));
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
}

}  // namespace
}  // namespace relayscope::server
