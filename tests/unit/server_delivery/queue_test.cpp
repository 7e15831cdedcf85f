// The queue plus couriers: settle() on its own, then the queue manager with
// a fake courier over a real spool: a transient failure is retried on the
// schedule and then delivered; a message kept too long expires into a DSN
// (X.4.7); a permanent failure gives a DSN carrying the remote reply and
// host; a message from the null sender gets none.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <functional>

#include "server/queue_manager.hpp"
#include "server/settle.hpp"
#include "test_io.hpp"

namespace relayscope::server {
namespace {

using Kind = RecipientOutcome::Kind;
using testing::ScratchDir;

RecipientOutcome outcome(Kind k, std::string status, std::string text, std::string relay = "") {
  return RecipientOutcome{k, std::move(status), std::move(text), std::move(relay), std::nullopt};
}

TEST(Settle, SortsDeliveredFailedAndRetried) {
  Outcomes in{{"a@x.test", outcome(Kind::delivered, "2.0.0", "250 ok", "127.0.0.9:25")},
              {"b@x.test", outcome(Kind::permanent, "5.1.1", "550 5.1.1 no", "127.0.0.9:25")},
              {"c@x.test", outcome(Kind::transient, "4.2.0", "451 4.2.0 later", "[::1]:25")}};
  auto s = settle(in, false);
  ASSERT_EQ(s.delivered.size(), 1u);
  EXPECT_EQ(s.delivered[0].first, "a@x.test");
  EXPECT_EQ(s.delivered[0].second, "delivered 127.0.0.9:25 250 ok");
  ASSERT_EQ(s.failed.size(), 1u);
  EXPECT_EQ(s.failed[0].recipient, "b@x.test");
  EXPECT_EQ(s.failed[0].remote_mta, "127.0.0.9");  // without ":port"
  EXPECT_EQ(s.retry, std::vector<std::string>{"c@x.test"});
  EXPECT_EQ(s.last_error, "<c@x.test>: 451 4.2.0 later");
  EXPECT_EQ(s.words[2].second, "deferred");
}

TEST(Settle, ExpiryTurnsOnlyTransientFailuresIntoX47) {
  Outcomes in{{"a@x.test", outcome(Kind::delivered, "2.0.0", "250 ok")},
              {"c@x.test", outcome(Kind::transient, "4.2.0", "451 4.2.0 later")}};
  auto s = settle(in, true);
  EXPECT_EQ(s.delivered.size(), 1u);
  EXPECT_TRUE(s.retry.empty());
  ASSERT_EQ(s.failed.size(), 1u);
  EXPECT_EQ(s.failed[0].status, "5.4.7");
  EXPECT_EQ(s.failed[0].diagnostic, "delivery time expired; last error: 451 4.2.0 later");
  EXPECT_EQ(s.words[1].second, "expired");
  EXPECT_EQ(failed_record(s.failed[0]), "failed 5.4.7 " + s.failed[0].diagnostic);
}

// Answers each parcel with the next scripted outcome for every recipient
// (the last one repeating), and keeps what it was given.
struct FakeCourier : Courier {
  std::deque<RecipientOutcome> script;
  std::vector<Parcel> parcels;
  std::vector<std::string> messages;  // each parcel's message, read whole
  asio::awaitable<Outcomes> carry(Parcel p) override {
    auto text = p.message->read(0, p.message->size());
    messages.push_back(text ? *text : "unreadable: " + text.error().message);
    auto o = script.size() > 1 ? script.front() : script.back();
    if (script.size() > 1) script.pop_front();
    Outcomes out;
    for (const auto& r : p.recipients) out.emplace_back(r, o);
    parcels.push_back(std::move(p));
    co_return out;
  }
};

struct QueueFixture {
  ScratchDir dir;
  asio::io_context io;
  Worker worker{1, false};
  std::unique_ptr<Spool> spool;
  RelayPolicy policy{CidrSet{}, {"local.test"}};
  FakeCourier local, remote;
  std::unique_ptr<QueueManager> queue;

  explicit QueueFixture(std::function<void(DeliveryConfig&)> tune = {}) {
    spool = Spool::open(dir.path() + "/spool", worker).value();
    QueueSettings s;
    s.hostname = "mx.relay.test";
    s.mailbox_root = dir.path() + "/mail";
    s.delivery.retry = {std::chrono::milliseconds(20)};
    if (tune) tune(s.delivery);
    queue =
        std::make_unique<QueueManager>(io.get_executor(), s, *spool, worker, policy, local, remote);
    queue->start();
  }

  void submit(std::string from, std::vector<std::string> rcpts, std::int64_t age_s = 0) {
    SpoolEnvelope e;
    e.arrival = static_cast<std::int64_t>(std::time(nullptr)) - age_s;
    e.client = "127.0.0.2";
    e.helo = "client.test";
    e.mail_from = std::move(from);
    e.recipients = std::move(rcpts);
    auto q = queue.get();
    asio::co_spawn(
        io,
        [q, e]() -> asio::awaitable<void> {
          auto s =
              co_await q->submit(e, "Subject: test\r\nMessage-ID: <m1@client.test>\r\n\r\nhi\r\n");
          EXPECT_TRUE(s);
        },
        asio::detached);
  }

  // Runs the loop until `done` holds, for at most 10 seconds.
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }
  std::size_t spooled() { return Spool::list(dir.path() + "/spool")->size(); }
};

TEST(QueueManagerWithFakeCourier, RetriesATransientFailureThenDelivers) {
  QueueFixture f;
  f.remote.script = {outcome(Kind::transient, "4.2.0", "451 4.2.0 later", "127.0.0.9:25"),
                     outcome(Kind::transient, "4.2.0", "451 4.2.0 later", "127.0.0.9:25"),
                     outcome(Kind::delivered, "2.0.0", "250 ok", "127.0.0.9:25")};
  f.submit("alice@client.test", {"bob@remote.test"});
  ASSERT_TRUE(f.run_until([&] { return f.remote.parcels.size() == 3 && f.queue->size() == 0; }));
  EXPECT_TRUE(f.run_until([&] { return f.spooled() == 0; }));
  EXPECT_EQ(f.remote.parcels[0].destination, "remote.test");
  EXPECT_EQ(f.remote.messages[2], "Subject: test\r\nMessage-ID: <m1@client.test>\r\n\r\nhi\r\n");
  EXPECT_TRUE(f.local.parcels.empty());
}

TEST(QueueManagerWithFakeCourier, LocalAndRemoteRecipientsGoToTheirCouriers) {
  QueueFixture f;
  f.local.script = {outcome(Kind::delivered, "2.0.0", "delivered to maildir", "maildir")};
  f.remote.script = {outcome(Kind::delivered, "2.0.0", "250 ok", "127.0.0.9:25")};
  f.submit("alice@client.test", {"bob@Local.Test", "carol@remote.test", "bad address"});
  // The bad address fails for good: its DSN goes to alice (remote).
  ASSERT_TRUE(f.run_until([&] { return f.queue->size() == 0 && f.remote.parcels.size() == 2; }));
  ASSERT_EQ(f.local.parcels.size(), 1u);
  EXPECT_EQ(f.local.parcels[0].recipients, std::vector<std::string>{"bob@Local.Test"});
  EXPECT_EQ(f.remote.parcels[0].recipients, std::vector<std::string>{"carol@remote.test"});
  EXPECT_NE(f.remote.messages[1].find("Status: 5.1.3"), std::string::npos);
}

TEST(QueueManagerWithFakeCourier, AnExpiredMessageBouncesWithX47) {
  QueueFixture f([](DeliveryConfig& d) { d.max_queue_time = std::chrono::seconds(60); });
  f.remote.script = {outcome(Kind::transient, "4.4.1", "connection refused")};
  f.submit("alice@client.test", {"bob@remote.test"}, 3600);
  // One attempt of the message, then its DSN to alice (also transient: it
  // stays queued, but it is from the null sender and never bounces back).
  ASSERT_TRUE(f.run_until([&] { return f.remote.parcels.size() >= 2; }));
  const auto& dsn = f.remote.parcels[1];
  const auto& text = f.remote.messages[1];
  EXPECT_EQ(dsn.envelope.mail_from, "");
  EXPECT_EQ(dsn.recipients, std::vector<std::string>{"alice@client.test"});
  EXPECT_NE(text.find("Status: 5.4.7"), std::string::npos) << text;
  EXPECT_NE(text.find("delivery time expired; last error: connection refused"), std::string::npos);
  EXPECT_NE(text.find("Message-ID: <m1@client.test>"), std::string::npos);
}

TEST(QueueManagerWithFakeCourier, APermanentFailureGivesADsnWithTheRemoteReply) {
  QueueFixture f;
  f.remote.script = {outcome(Kind::permanent, "5.1.1", "550 5.1.1 no such user", "127.0.0.9:25"),
                     outcome(Kind::delivered, "2.0.0", "250 ok", "127.0.0.9:25")};
  f.submit("alice@client.test", {"nobody@remote.test"});
  ASSERT_TRUE(f.run_until([&] { return f.remote.parcels.size() == 2 && f.queue->size() == 0; }));
  const auto& dsn = f.remote.messages[1];
  EXPECT_NE(dsn.find("Final-Recipient: rfc822; nobody@remote.test"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("Status: 5.1.1"), std::string::npos);
  EXPECT_NE(dsn.find("Remote-MTA: dns; 127.0.0.9"), std::string::npos);
  EXPECT_NE(dsn.find("Diagnostic-Code: smtp; 550 5.1.1 no such user"), std::string::npos);
  EXPECT_TRUE(f.run_until([&] { return f.spooled() == 0; }));
}

TEST(QueueManagerWithFakeCourier, TheNullSenderGetsNoDsn) {
  QueueFixture f;
  f.remote.script = {outcome(Kind::permanent, "5.1.1", "550 5.1.1 no such user", "127.0.0.9:25")};
  f.submit("", {"nobody@remote.test"});
  // A DSN would be stored before the message leaves the spool: an empty
  // queue and spool after the one attempt mean none was made.
  ASSERT_TRUE(f.run_until(
      [&] { return f.remote.parcels.size() == 1 && f.queue->size() == 0 && f.spooled() == 0; }));
  EXPECT_EQ(f.remote.parcels.size(), 1u);
}

}  // namespace
}  // namespace relayscope::server
