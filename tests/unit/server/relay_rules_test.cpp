// Issue 14's rules in the relay's session, in memory: unknown local
// recipients get 550 5.1.1 and no Maildir; aliases (several targets,
// catch-all, an outside address) reach their targets; postmaster always
// works; an authenticated user's MAIL FROM and From: header are bound to
// their addresses (a forged From: leaves nothing in the spool); the N+1th
// message or recipient in the hour gets 450 4.7.1 (a fake clock).
#include "server/relay_rules.hpp"

#include <gtest/gtest.h>

#include <asio/ssl.hpp>
#include <cstdlib>
#include <filesystem>

#include "mail/base64.hpp"
#include "server/couriers.hpp"
#include "server/queue_manager.hpp"
#include "server/relay_parts.hpp"
#include "server/routing.hpp"
#include "server/spool.hpp"
#include "smtpd/dialogue.hpp"

namespace relayscope::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/relayscope-rules-unit-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class FakeAuth final : public smtpd::Authenticator {
 public:
  asio::awaitable<bool> verify(std::string user, std::string password) override {
    co_return password == "secret-" + user;
  }
};

// The relay's session policy and rules over a configuration whose extra
// TOML (tables [aliases], [senders], [rate_limits]) the test gives; the
// dialogue's client, 192.0.2.7, is a stranger unless `local` is set.
struct Rig {
  Rig(const std::string& extra, std::vector<std::string> users, bool local = false)
      : config(make_config(extra, local)),
        policy(config.local_networks, config.local_domains),
        rules(policy, config, std::move(users), [this] { return now; }),
        session_policy(policy, nullptr, &rules),
        sink(memory, rules) {
    settings = session_settings(config);
    settings.greet_pause = 0ms;
    settings.auth_answer_time = settings.auth_jitter = settings.auth_failure_delay = 0ms;
    settings.tls = &tls;
    settings.auth = &auth;
  }

  static Config make_config(const std::string& extra, bool local) {
    auto c = parse_config(std::string(R"(
[server]
listen = ["127.0.0.1:2525"]
hostname = "mx.test"
[policy]
local_networks = [")") + (local ? "192.0.2.0/24" : "127.0.0.0/8") +
                              R"("]
local_domains = ["local.test", "other.local"]
[mailboxes]
root = "/nonexistent/mail"
[spool]
dir = "/nonexistent/spool"
[delivery]
smarthost = "127.0.0.1:2601"
)" + extra,
                          "relay.toml");
    if (!c) throw std::runtime_error(c.error().message);
    return *c;
  }

  smtpd::DialogueResult go(const std::string& script) {
    return smtpd::run_dialogue(script, settings, session_policy, sink);
  }
  smtpd::DialogueResult go(const std::string& script, smtpd::MessageSink& other) {
    return smtpd::run_dialogue(script, settings, session_policy, other);
  }

  // Delivers what the memory sink took through the queue's routing and the
  // real Maildir courier into `root`.
  void deliver_all(const std::string& root) {
    asio::io_context io;
    Worker worker(1, false);
    MaildirCourier courier(root, "mx.test", policy, worker);
    for (std::size_t i = 0; i < memory.envelopes.size(); ++i) {
      const auto& env = memory.envelopes[i];
      std::set<std::string> all(env.recipients.begin(), env.recipients.end());
      auto plan = plan_routes(all, policy, true);
      auto it = plan.destinations.find(local_destination);
      if (it == plan.destinations.end()) continue;
      Parcel parcel{"Q" + std::to_string(i),
                    {},
                    SpoolMessage::from_text(memory.messages[i]),
                    local_destination,
                    it->second};
      parcel.envelope.mail_from = env.mail_from;
      asio::co_spawn(
          io,
          [&courier, parcel]() mutable -> asio::awaitable<void> {
            (void)co_await courier.carry(std::move(parcel));
          },
          asio::detached);
    }
    io.run();
  }

  RelayRules::Clock::time_point now = RelayRules::Clock::time_point{} + 100h;
  Config config;
  RelayPolicy policy;
  RelayRules rules;
  RelaySessionPolicy session_policy;
  smtpd::MemorySink memory;
  RulesSink sink;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  FakeAuth auth;
  smtpd::SessionSettings settings;
};

std::string login(const std::string& user) {
  return "S: 220\nC: EHLO c\nS: 250\nC: STARTTLS\nS: 220\nC: EHLO c\nS: 250\nC: AUTH PLAIN " +
         mail::base64_encode(std::string(1, '\0') + user + '\0' + "secret-" + user) + "\nS: 235\n";
}

std::string message(const std::string& from, const std::string& rcpt,
                    const std::string& from_header, const std::string& reply) {
  return "C: MAIL FROM:<" + from + ">\nS: 250\nC: RCPT TO:<" + rcpt +
         ">\nS: 250\nC: DATA\nS: 354\nC: From: " + from_header +
         "\nC: Subject: t\nC:\nC: body\nC: .\nS: " + reply + "\n";
}

std::size_t files_in(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file()) ++n;
  }
  return n;
}

TEST(RelayRules, UnknownLocalRecipientIs550AndGetsNoMaildir) {
  Rig r("", {"alice"});
  auto res = r.go(
      "S: 220\nC: EHLO c\nS: 250\nC: MAIL FROM:<x@remote.test>\nS: 250\n"
      "C: RCPT TO:<nobody@local.test>\nS: 550 5.1.1\n"
      "C: RCPT TO:<NoBody@Other.Local>\nS: 550 5.1.1\n"
      "C: RCPT TO:<Alice@local.test>\nS: 250\n"
      "C: DATA\nS: 354\nC: Subject: t\nC:\nC: hi\nC: .\nS: 250\nC: QUIT\nS: 221\n");
  ASSERT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  ASSERT_EQ(r.memory.envelopes.size(), 1u);
  EXPECT_EQ(r.memory.envelopes[0].recipients, std::vector<std::string>{"alice@local.test"});
  ScratchDir root;
  r.deliver_all(root.path());
  EXPECT_EQ(files_in(fs::path(root.path()) / "local.test/alice/new"), 1u);
  EXPECT_FALSE(fs::exists(fs::path(root.path()) / "local.test/nobody"));
  EXPECT_FALSE(fs::exists(fs::path(root.path()) / "other.local/nobody"));
}

TEST(RelayRules, WithoutUsersOnlyAliasesAndPostmaster) {
  Rig r("[aliases]\nabuse = \"postmaster\"\n", {});
  auto res = r.go(
      "S: 220\nC: EHLO c\nS: 250\nC: MAIL FROM:<x@remote.test>\nS: 250\n"
      "C: RCPT TO:<bob@local.test>\nS: 550 5.1.1\n"
      "C: RCPT TO:<abuse@other.local>\nS: 250\n"
      "C: RCPT TO:<Postmaster>\nS: 250\n"
      "C: RCPT TO:<POSTMASTER@local.test>\nS: 250\n"
      "C: DATA\nS: 354\nC: Subject: t\nC:\nC: hi\nC: .\nS: 250\nC: QUIT\nS: 221\n");
  ASSERT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  ASSERT_EQ(r.memory.envelopes.size(), 1u);
  // <Postmaster> and postmaster@local.test are one mailbox: one copy.
  EXPECT_EQ(r.memory.envelopes[0].recipients,
            (std::vector<std::string>{"postmaster@other.local", "postmaster@local.test"}));
  ScratchDir root;
  r.deliver_all(root.path());
  EXPECT_EQ(files_in(fs::path(root.path()) / "local.test/postmaster/new"), 1u);
  EXPECT_EQ(files_in(fs::path(root.path()) / "other.local/postmaster/new"), 1u);
  EXPECT_FALSE(fs::exists(fs::path(root.path()) / "local.test/bob"));
  EXPECT_FALSE(fs::exists(fs::path(root.path()) / "other.local/abuse"));
}

TEST(RelayRules, AliasReachesEveryTargetOnceAndOutsideAddressesAreForwarded) {
  Rig r(
      "[aliases]\n\"sales@local.test\" = [\"alice\", \"bob\"]\npostmaster = \"alice\"\n"
      "friends = [\"carol@remote.test\", \"bob\"]\n",
      {"alice", "bob"});
  auto res = r.go(
      "S: 220\nC: EHLO c\nS: 250\nC: MAIL FROM:<x@remote.test>\nS: 250\n"
      "C: RCPT TO:<sales@local.test>\nS: 250\n"
      "C: RCPT TO:<alice@local.test>\nS: 250\n"
      "C: RCPT TO:<sales@other.local>\nS: 550 5.1.1\n"
      "C: RCPT TO:<postmaster@other.local>\nS: 250\n"
      "C: RCPT TO:<friends@other.local>\nS: 250\n"
      "C: DATA\nS: 354\nC: Subject: t\nC:\nC: hi\nC: .\nS: 250\nC: QUIT\nS: 221\n");
  ASSERT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  ASSERT_EQ(r.memory.envelopes.size(), 1u);
  EXPECT_EQ(r.memory.envelopes[0].recipients,
            (std::vector<std::string>{"alice@local.test", "bob@local.test", "alice@other.local",
                                      "bob@other.local", "carol@remote.test"}));
  auto plan = plan_routes({"carol@remote.test"}, r.policy, true);
  EXPECT_EQ(plan.destinations.count("smarthost"), 1u) << "forwarded through the queue";
  ScratchDir root;
  r.deliver_all(root.path());
  EXPECT_EQ(files_in(fs::path(root.path()) / "local.test/alice/new"), 1u) << "one copy";
  EXPECT_EQ(files_in(fs::path(root.path()) / "local.test/bob/new"), 1u);
  EXPECT_FALSE(fs::exists(fs::path(root.path()) / "local.test/sales"));
  EXPECT_FALSE(fs::exists(fs::path(root.path()) / "other.local/postmaster"));
}

TEST(RelayRules, CatchAllOfADomain) {
  Rig r("[aliases]\n\"@other.local\" = \"alice\"\n", {"alice", "bob"});
  auto res = r.go(
      "S: 220\nC: EHLO c\nS: 250\nC: MAIL FROM:<x@remote.test>\nS: 250\n"
      "C: RCPT TO:<anything@other.local>\nS: 250\n"
      "C: RCPT TO:<bob@other.local>\nS: 250\n"
      "C: RCPT TO:<anything@local.test>\nS: 550 5.1.1\n"
      "C: DATA\nS: 354\nC: Subject: t\nC:\nC: hi\nC: .\nS: 250\nC: QUIT\nS: 221\n");
  ASSERT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  EXPECT_EQ(r.memory.envelopes.at(0).recipients,
            (std::vector<std::string>{"alice@other.local", "bob@other.local"}));
}

TEST(RelayRules, SenderBoundToTheLoginAtMail) {
  Rig r("[senders]\nalice = [\"sales@local.test\", \"@shop.test\"]\n", {"alice", "bob"});
  auto res = r.go(login("alice") +
                  "C: MAIL FROM:<alice@local.test>\nS: 250\nC: RSET\nS: 250\n"
                  "C: MAIL FROM:<ALICE@Other.Local>\nS: 250\nC: RSET\nS: 250\n"
                  "C: MAIL FROM:<sales@local.test>\nS: 250\nC: RSET\nS: 250\n"
                  "C: MAIL FROM:<anyone@shop.test>\nS: 250\nC: RSET\nS: 250\n"
                  "C: MAIL FROM:<ceo@other.test>\nS: 553 5.7.1\n"
                  "C: MAIL FROM:<bob@local.test>\nS: 553 5.7.1\n"
                  "C: MAIL FROM:<alice@remote.test>\nS: 553 5.7.1\n"
                  "C: MAIL FROM:<>\nS: 250\nC: QUIT\nS: 221\n");
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  EXPECT_NE(res.transcript.find("553 5.7.1 <ceo@other.test>: Sender address rejected: not owned "
                                "by user alice"),
            std::string::npos)
      << res.transcript;
}

TEST(RelayRules, UnauthenticatedLocalClientsAreNotBound) {
  Rig r("", {"alice"}, /*local=*/true);
  auto res = r.go("S: 220\nC: EHLO c\nS: 250\n" +
                  message("ceo@other.test", "someone@remote.test", "<ceo@other.test>", "250") +
                  "C: QUIT\nS: 221\n");
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  EXPECT_EQ(r.memory.messages.size(), 1u);
}

TEST(RelayRules, ForgedFromHeaderIsRefusedAndLeavesNothingInTheSpool) {
  Rig r("", {"alice"});
  ScratchDir dir;
  asio::io_context queue_io;  // never run: the queue only takes what was accepted
  Worker worker(1, false);
  auto spool = Spool::open(dir.path() + "/spool", worker);
  ASSERT_TRUE(spool) << spool.error().message;
  QueueSettings qs{"mx.test", dir.path() + "/mail", r.config.delivery};
  QueueManager queue(queue_io.get_executor(), qs, **spool, worker, r.policy, nullptr,
                     *net::ScopeGuard::from_strings({"127.0.0.0/8"}));
  SpoolSink spool_sink("mx.test", **spool, queue);
  RulesSink sink(spool_sink, r.rules);
  auto res = r.go(
      login("alice") +
          message("alice@local.test", "bob@remote.test", "Big Boss <ceo@other.test>", "550 5.7.1") +
          message("alice@local.test", "bob@remote.test",
                  "\"Alice\" <alice@local.test>, ceo@other.test", "550 5.7.1") +
          "C: QUIT\nS: 221\n",
      sink);
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  // Two From: fields, or one that cannot be read, are refused too; a
  // message without any From: names nobody (its envelope sender is bound).
  auto more = r.go(login("alice") +
                       "C: MAIL FROM:<alice@local.test>\nS: 250\nC: RCPT TO:<b@remote.test>\n"
                       "S: 250\nC: DATA\nS: 354\nC: From: alice@local.test\nC: FROM : "
                       "alice@local.test\nC:\nC: x\nC: .\nS: 550 5.7.1\n"
                       "C: MAIL FROM:<alice@local.test>\nS: 250\nC: RCPT TO:<b@remote.test>\n"
                       "S: 250\nC: DATA\nS: 354\nC: From: <<>\nC:\nC: x\nC: .\nS: 550 5.7.1\n"
                       "C: QUIT\nS: 221\n",
                   sink);
  EXPECT_TRUE(more.ok) << more.failure << "\n" << more.transcript;
  EXPECT_EQ(files_in(dir.path() + "/spool/queue"), 0u);
  EXPECT_EQ(files_in(dir.path() + "/spool/tmp"), 0u);
  auto listed = Spool::list(dir.path() + "/spool");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());

  auto ok =
      r.go(login("alice") +
               message("alice@local.test", "bob@remote.test", "Alice <alice@local.test>", "250") +
               "C: MAIL FROM:<alice@local.test>\nS: 250\nC: RCPT TO:<b@remote.test>\n"
               "S: 250\nC: DATA\nS: 354\nC: Subject: no From\nC:\nC: x\nC: .\nS: 250\n"
               "C: QUIT\nS: 221\n",
           sink);
  EXPECT_TRUE(ok.ok) << ok.failure << "\n" << ok.transcript;
  listed = Spool::list(dir.path() + "/spool");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 2u);
}

TEST(RelayRules, FromHeaderCheckFailsClosed) {
  Rig r("", {"alice"});
  EXPECT_FALSE(r.rules.check_from_header("alice", "From: Alice <ALICE@local.test>\r\n\r\nx"));
  EXPECT_FALSE(r.rules.check_from_header("alice", "Subject: none\r\n\r\nFrom: ceo@other.test\r\n"))
      << "a From: in the body is no header";
  EXPECT_TRUE(r.rules.check_from_header("alice", "From: ceo@other.test\r\n\r\n"));
  EXPECT_TRUE(r.rules.check_from_header("alice", "from :ceo@other.test\r\n\r\n"));
  // A From: hidden past the header limit (the writer keeps 256 KiB + 4).
  std::string junk;
  while (junk.size() < 256 * 1024 + 4) junk += "X-Junk: " + std::string(60, 'j') + "\r\n";
  junk.resize(256 * 1024 + 4);
  EXPECT_TRUE(r.rules.check_from_header("alice", junk));
}

TEST(RelayRules, ReloadReplacesTablesAndKeepsTheCounts) {
  Rig r("[rate_limits]\nmessages_per_hour_per_user = 1\n", {"alice"});
  auto sent = r.go(login("alice") +
                   message("alice@local.test", "x@remote.test", "<alice@local.test>", "250") +
                   "C: MAIL FROM:<alice@local.test>\nS: 450 4.7.1\nC: RCPT TO:<x@remote.test>\n"
                   "S: 503\nC: QUIT\nS: 221\n");
  EXPECT_TRUE(sent.ok) << sent.failure << "\n" << sent.transcript;
  auto next = Rig::make_config(
      "[aliases]\nsales = \"bob\"\n[senders]\nalice = [\"sales@local.test\"]\n"
      "[rate_limits]\nmessages_per_hour_per_user = 2\n",
      false);
  r.rules.replace(next, {"alice", "bob"});
  EXPECT_EQ(r.rules.recipients().resolve("sales@local.test").maildirs,
            std::vector<std::string>{"bob@local.test"});
  auto again = r.go(login("alice") +
                    message("sales@local.test", "x@remote.test", "<sales@local.test>", "250") +
                    "C: MAIL FROM:<alice@local.test>\nS: 450 4.7.1\nC: QUIT\nS: 221\n");
  EXPECT_TRUE(again.ok) << again.failure << "\n" << again.transcript;
}

TEST(RelayRules, TheNPlusFirstMessageOfAUserInTheHourIs450) {
  Rig r("[rate_limits]\nmessages_per_hour_per_user = 2\n", {"alice", "bob"});
  auto two = login("alice") +
             message("alice@local.test", "x@remote.test", "<alice@local.test>", "250") +
             // A refused message does not count.
             message("alice@local.test", "x@remote.test", "<ceo@other.test>", "550 5.7.1") +
             message("alice@local.test", "x@remote.test", "<alice@local.test>", "250") +
             "C: MAIL FROM:<alice@local.test>\nS: 450 4.7.1\nC: QUIT\nS: 221\n";
  auto res = r.go(two);
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  EXPECT_NE(res.transcript.find("450 4.7.1 Too many messages of user alice in the last hour; try "
                                "again in 3600 seconds"),
            std::string::npos)
      << res.transcript;
  // Another user, and the same user once the hour has passed.
  auto bob =
      r.go(login("bob") + message("bob@local.test", "x@remote.test", "<bob@local.test>", "250") +
           "C: QUIT\nS: 221\n");
  EXPECT_TRUE(bob.ok) << bob.failure << "\n" << bob.transcript;
  r.now += 59min;
  auto still = r.go(login("alice") + "C: MAIL FROM:<alice@local.test>\nS: 450 4.7.1\n" +
                    "C: QUIT\nS: 221\n");
  EXPECT_TRUE(still.ok) << still.failure << "\n" << still.transcript;
  EXPECT_NE(still.transcript.find("try again in 60 seconds"), std::string::npos);
  r.now += 1min;
  auto later = r.go(login("alice") +
                    message("alice@local.test", "x@remote.test", "<alice@local.test>", "250") +
                    "C: QUIT\nS: 221\n");
  EXPECT_TRUE(later.ok) << later.failure << "\n" << later.transcript;
}

TEST(RelayRules, RecipientsPerUserAndMessagesPerClient) {
  Rig r("[rate_limits]\nrecipients_per_hour_per_user = 3\nmessages_per_hour_per_client = 2\n",
        {"alice"});
  auto res = r.go(login("alice") +
                  "C: MAIL FROM:<alice@local.test>\nS: 250\n"
                  "C: RCPT TO:<a@remote.test>\nS: 250\nC: RCPT TO:<b@remote.test>\nS: 250\n"
                  "C: RCPT TO:<c@remote.test>\nS: 250\nC: RCPT TO:<d@remote.test>\nS: 450 4.7.1\n"
                  "C: DATA\nS: 354\nC: From: alice@local.test\nC:\nC: x\nC: .\nS: 250\n"
                  "C: MAIL FROM:<alice@local.test>\nS: 250\n"
                  "C: RCPT TO:<e@remote.test>\nS: 450 4.7.1\nC: QUIT\nS: 221\n");
  EXPECT_TRUE(res.ok) << res.failure << "\n" << res.transcript;
  EXPECT_NE(res.transcript.find("Too many recipients of user alice"), std::string::npos);
  // The stranger 192.0.2.7 sent one message as alice; one more, then 450.
  auto stranger =
      r.go("S: 220\nC: EHLO c\nS: 250\n" +
           message("x@remote.test", "alice@local.test", "<x@remote.test>", "250") +
           "C: MAIL FROM:<x@remote.test>\nS: 450 4.7.1 Too many messages of client 192.0.2.7\n"
           "C: QUIT\nS: 221\n");
  EXPECT_TRUE(stranger.ok) << stranger.failure << "\n" << stranger.transcript;
}

}  // namespace
}  // namespace relayscope::server
