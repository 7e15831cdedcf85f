// The spool: its file format (with the size that tells a cut file), the
// .done records (a line cut by a crash is no record), and recovery (tmp/
// leftovers deleted, cut files moved to corrupt/, finished leftovers gone).
#include "server/spool.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "server/spool_check.hpp"
#include "test_io.hpp"

namespace relayscope::server {
namespace {

namespace fs = std::filesystem;
using testing::run_coroutine;
using testing::ScratchDir;

SpoolEnvelope envelope(std::vector<std::string> rcpts = {"bob@remote.test"}) {
  SpoolEnvelope e;
  e.id = "ID1";
  e.arrival = 1795400000;
  e.client = "127.0.0.2";
  e.helo = "client.example.org";
  e.mail_from = "alice@example.test";
  e.recipients = std::move(rcpts);
  return e;
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

TEST(SpoolFormat, RoundTrip) {
  auto e = envelope({"bob@remote.test", "carol@example.test"});
  e.auth_user = "alice";
  std::string message = "Subject: x\r\n\r\nbody\r\n";
  auto file = format_envelope(e, message.size()) + message;
  std::size_t body = 0;
  auto back = parse_envelope(file, body);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->id, "ID1");
  EXPECT_EQ(back->arrival, 1795400000);
  EXPECT_EQ(back->client, "127.0.0.2");
  EXPECT_EQ(back->helo, "client.example.org");
  EXPECT_EQ(back->auth_user, "alice");
  EXPECT_EQ(back->mail_from, "alice@example.test");
  EXPECT_EQ(back->recipients, e.recipients);
  EXPECT_EQ(file.substr(body), message);
}

TEST(SpoolFormat, TheCheckIsKeptAndAFileWithoutOneStillParses) {
  auto e = envelope();
  std::string message = "Subject: x\r\n\r\nbody\r\n";
  e.check = spool_check(message);
  EXPECT_EQ(e.check.size(), 32u);
  EXPECT_NE(spool_check("Subject: x\r\n\r\nbodY\r\n"), e.check);
  std::size_t body = 0;
  auto back = parse_envelope(format_envelope(e, message.size()) + message, body);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->check, e.check);
  e.check.clear();  // streamed messages and older spools' files
  auto file = format_envelope(e, message.size()) + message;
  EXPECT_EQ(file.find("check:"), std::string::npos);
  back = parse_envelope(file, body);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->check, "");
}

TEST(SpoolFormat, NullSenderAndEmptyHelo) {
  auto e = envelope();
  e.mail_from.clear();
  e.helo.clear();
  auto file = format_envelope(e, 3) + "abc";
  std::size_t body = 0;
  auto back = parse_envelope(file, body);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->mail_from, "");
  EXPECT_EQ(back->helo, "");
}

TEST(SpoolFormat, AFileCutShortIsRefused) {
  std::string message = "Subject: x\r\n\r\nbody\r\n";
  auto file = format_envelope(envelope(), message.size()) + message;
  std::size_t body = 0;
  for (std::size_t cut = 1; cut < file.size(); ++cut) {
    EXPECT_FALSE(parse_envelope(file.substr(0, file.size() - cut), body)) << "cut " << cut;
  }
  EXPECT_FALSE(parse_envelope(file + "x", body));
}

TEST(SpoolFormat, RefusesOtherFilesAndIncompleteEnvelopes) {
  std::size_t body = 0;
  EXPECT_FALSE(parse_envelope("From: x\r\n\r\nhi", body));
  EXPECT_FALSE(parse_envelope("relayscope-spool 1\nid: A\nsize: 0\nfrom: a@b\n\n", body));
  EXPECT_FALSE(parse_envelope("relayscope-spool 1\nid: A\nfrom: a@b\nrcpt: c@d\n\n", body));
  EXPECT_TRUE(parse_envelope("relayscope-spool 1\nid: A\nsize: 0\nfrom: a@b\nrcpt: c@d\n\n", body));
}

TEST(SpoolDone, ALineCutByACrashIsNoRecord) {
  auto d = parse_done("a@x\tdelivered here\nb@x\tfailed 5.1.1 no\nc@x\tdeliv");
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d["a@x"], "delivered here");
  EXPECT_EQ(d["b@x"], "failed 5.1.1 no");
  EXPECT_EQ(d.count("c@x"), 0u);
}

TEST(SpoolState, RoundTrip) {
  RetryState s{3, 1795400123, "<b@x>: 450 4.2.0 later\r\nStatus: x"};
  auto back = parse_state(format_state(s));
  EXPECT_EQ(back.attempts, 3);
  EXPECT_EQ(back.next_retry, 1795400123);
  EXPECT_EQ(back.last_error, "<b@x>: 450 4.2.0 later  Status: x");
}

class SpoolTest : public ::testing::Test {
 protected:
  ScratchDir dir;
  Worker worker{2, true};
  std::unique_ptr<Spool> spool;
  void SetUp() override {
    auto s = Spool::open(dir.path() + "/spool", worker);
    ASSERT_TRUE(s) << s.error().message;
    spool = std::move(*s);
  }
  std::string store(SpoolEnvelope e, std::string message) {
    auto id = run_coroutine(spool->store(std::move(e), std::move(message)));
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : std::string();
  }
  // Every message of `ids` is in the queue, whole (content(i) for the i-th),
  // nothing is left in tmp/ and nothing was set aside as corrupt.
  void expect_kept(const std::vector<std::string>& ids,
                   const std::function<std::string(int)>& content) {
    EXPECT_TRUE(fs::is_empty(spool->tmp_dir()));
    auto r = spool->recover_all();
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->entries.size(), ids.size());
    EXPECT_TRUE(r->corrupt.empty());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ASSERT_FALSE(ids[i].empty()) << i;
      auto m = spool->read_message(ids[i]);
      ASSERT_TRUE(m) << m.error().message;
      EXPECT_EQ(*m, content(static_cast<int>(i)));
    }
  }
};

TEST_F(SpoolTest, StoredMessagesAreRecovered) {
  auto a = envelope();
  a.id = spool->new_id();
  auto id_a = store(a, "message A\r\n");
  auto b = envelope({"x@remote.test", "y@remote.test"});
  b.id = "";
  auto id_b = store(b, "message B\r\n");
  EXPECT_EQ(id_a, a.id);
  EXPECT_FALSE(id_b.empty());
  EXPECT_NE(id_a, id_b);
  EXPECT_TRUE(fs::is_empty(spool->tmp_dir()));

  auto r = spool->recover_all();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->removed_tmp, 0u);
  EXPECT_TRUE(r->corrupt.empty());
  auto m = spool->read_message(id_b);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, "message B\r\n");
}

TEST_F(SpoolTest, ALongEnvelopeIsReadBackWithoutTheBody) {
  std::vector<std::string> rcpts;
  for (int i = 0; i < 3000; ++i) {
    rcpts.push_back("recipient" + std::to_string(i) + "@remote.test");
  }
  std::string body = "Subject: x\r\n\r\n" + std::string(100000, 'b') + "\n\nmore\r\n";
  auto id = store(envelope(rcpts), body);
  auto r = spool->recover_all();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].envelope.recipients, rcpts);
  EXPECT_EQ(r->entries[0].size, body.size());
  auto m = spool->read_message(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, body);
}

TEST_F(SpoolTest, RecoveryDeletesHalfWrittenFilesInTmp) {
  auto e = envelope();
  e.id = "HALF";
  spit(spool->tmp_dir() + "/HALF", format_envelope(e, 100) + "only part of it");
  auto r = spool->recover_all();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->removed_tmp, 1u);
  EXPECT_TRUE(r->entries.empty());
  EXPECT_TRUE(fs::is_empty(spool->tmp_dir()));
}

TEST_F(SpoolTest, RecoveryMovesCutFilesToCorruptAndNeverReturnsThem) {
  auto id = store(envelope(), "a message that will lose its end\r\n");
  auto path = spool->queue_dir() + "/" + id;
  fs::resize_file(path, fs::file_size(path) - 5);
  spit(spool->queue_dir() + "/" + id + ".done", "");
  auto r = spool->recover_all();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->entries.empty());
  ASSERT_EQ(r->corrupt, std::vector<std::string>{id});
  EXPECT_TRUE(fs::exists(spool->corrupt_dir() + "/" + id));
  EXPECT_TRUE(fs::is_empty(spool->queue_dir()));
}

// A message written over a spent file in place, cut by a crash before its
// sync: some of its blocks still hold the old message's bytes, under the
// new name and with the right size. Its check tells.
TEST_F(SpoolTest, RecoverySetsAsideASmallMessageWhoseBytesDoNotMatchItsCheck) {
  const std::string message = "Subject: x\r\n\r\n" + std::string(9000, 'n') + "\r\n";
  auto first = envelope(), second = envelope();
  first.id = "KEPT1";
  second.id = "CUT2";
  auto kept = store(first, message);
  auto id = store(second, message);
  auto path = spool->queue_dir() + "/" + id;
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) - 5000));
    f << std::string(4096, 'o');  // a block of the old message
  }
  auto r = spool->recover_all();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].envelope.id, kept);
  ASSERT_EQ(r->corrupt, std::vector<std::string>{id});
  EXPECT_TRUE(fs::exists(spool->corrupt_dir() + "/" + id));
}

TEST_F(SpoolTest, FinishedRecipientsAreRememberedAcrossARestart) {
  auto id = store(envelope({"a@remote.test", "b@remote.test"}), "m\r\n");
  auto s = run_coroutine(spool->mark_done(id, {{"a@remote.test", "delivered\tsomewhere\nx"}}));
  ASSERT_TRUE(s) << s.error().message;
  auto r = spool->recover_all();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].done.size(), 1u);
  EXPECT_EQ(r->entries[0].done["a@remote.test"], "delivered somewhere x");
}

TEST_F(SpoolTest, ARecordAfterACutLineStartsItsOwnLine) {
  auto id = store(envelope({"a@remote.test", "b@remote.test"}), "m\r\n");
  spit(spool->queue_dir() + "/" + id + ".done", "a@remote.test\tdeliv");
  auto s = run_coroutine(spool->mark_done(id, {{"b@remote.test", "delivered"}}));
  ASSERT_TRUE(s);
  auto entries = Spool::list(spool->dir());
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  const auto& done = (*entries)[0].done;
  // The cut line is closed before b's record, so b's record is whole. (A cut
  // line with its tab names a recipient that was finished: records are
  // written only after delivery or a stored DSN, so reading it as done is
  // right; a cut inside the address has no tab and names nobody.)
  EXPECT_EQ(done.size(), 2u);
  EXPECT_EQ(done.at("b@remote.test"), "delivered");
}

TEST_F(SpoolTest, RemoveTakesTheMessageAndItsRecords) {
  auto id = store(envelope(), "m\r\n");
  ASSERT_TRUE(run_coroutine(spool->mark_done(id, {{"x@y", "z"}})));
  ASSERT_TRUE(run_coroutine(spool->write_state(id, RetryState{1, 5, "e"})));
  ASSERT_TRUE(run_coroutine(spool->remove(id)));
  EXPECT_TRUE(fs::is_empty(spool->queue_dir()));
  EXPECT_TRUE(fs::is_empty(spool->state_dir()));
}

TEST_F(SpoolTest, AFreshMessagesRemovalLooksForNoRecords) {
  // Fresh: no .done or state file was ever written for it, so none is
  // looked for (what is there belongs to nobody: recovery drops orphans).
  auto id = store(envelope(), "m\r\n");
  spit(spool->state_dir() + "/" + id, "orphan");
  ASSERT_TRUE(run_coroutine(spool->remove(id, true)));
  EXPECT_FALSE(fs::exists(spool->queue_dir() + "/" + id));
  EXPECT_TRUE(fs::exists(spool->state_dir() + "/" + id));
  // Not fresh: its records go with it.
  auto id2 = store(envelope(), "m\r\n");
  ASSERT_TRUE(run_coroutine(spool->write_state(id2, RetryState{1, 5, "e"})));
  ASSERT_TRUE(run_coroutine(spool->remove(id2)));
  EXPECT_FALSE(fs::exists(spool->state_dir() + "/" + id2));
}

TEST_F(SpoolTest, ListShowsTheRetryStateAndRecoveryDropsOrphans) {
  auto id = store(envelope(), "m\r\n");
  ASSERT_TRUE(run_coroutine(spool->write_state(id, RetryState{2, 1795400999, "450 later"})));
  auto entries = Spool::list(spool->dir());
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].state.attempts, 2);
  EXPECT_EQ((*entries)[0].state.next_retry, 1795400999);
  EXPECT_EQ((*entries)[0].state.last_error, "450 later");
  spit(spool->queue_dir() + "/GONE.done", "x@y\tdelivered\n");
  spit(spool->state_dir() + "/GONE", "attempts: 1\n");
  auto r = spool->recover_all();
  ASSERT_TRUE(r);
  EXPECT_FALSE(fs::exists(spool->queue_dir() + "/GONE.done"));
  EXPECT_FALSE(fs::exists(spool->state_dir() + "/GONE"));
  EXPECT_EQ(r->entries.size(), 1u);
}

TEST_F(SpoolTest, StreamedMessagesCommittedTogetherAreAllKeptWithTheirSizes) {
  // Sessions streaming at once: each begins, appends in pieces and commits;
  // the group commit makes them durable in shared rounds.
  asio::io_context io;
  constexpr int n = 24;
  std::vector<std::string> ids(n);
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          auto e = envelope();
          e.id = spool->new_id();
          auto in = co_await spool->begin(e, "Received: by test\r\n");
          if (!in) co_return;
          auto part1 = co_await spool->append(*in, "Subject: " + std::to_string(i) + "\r\n\r\n");
          auto part2 =
              co_await spool->append(*in, std::string(static_cast<std::size_t>(i) * 100, 'b'));
          if (!part1 || !part2) co_return;
          auto id = co_await spool->commit(*in);
          if (id) ids[static_cast<std::size_t>(i)] = *id;
        },
        asio::detached);
  }
  io.run();
  expect_kept(ids, [](int i) {
    return "Received: by test\r\nSubject: " + std::to_string(i) + "\r\n\r\n" +
           std::string(static_cast<std::size_t>(i) * 100, 'b');
  });
  auto st = spool->commit_stats();
  EXPECT_EQ(st.items, static_cast<std::size_t>(n));
  EXPECT_EQ(st.failed, 0u);
  // Each round ended with one sync that made its names durable: an fsync
  // of queue/, or one syncfs after the renames.
  EXPECT_GE(st.dir_syncs + st.filesystem_syncs, 1u);
  EXPECT_LE(st.dir_syncs, st.rounds);
}

TEST_F(SpoolTest, ADiscardedMessageLeavesNothing) {
  auto e = envelope();
  e.id = spool->new_id();
  auto in = run_coroutine(spool->begin(e, "Received: x\r\n"));
  ASSERT_TRUE(in);
  ASSERT_TRUE(run_coroutine(spool->append(*in, "m\r\n")));
  run_coroutine([&]() -> asio::awaitable<bool> {
    co_await spool->discard(*in);
    co_return true;
  }());
  EXPECT_TRUE(fs::is_empty(spool->tmp_dir()));
  EXPECT_TRUE(fs::is_empty(spool->queue_dir()));
}

// A small message handed whole to the spool.
std::string whole_message(int i) {
  return "Received: by test\r\n\r\n" + std::string(static_cast<std::size_t>(i), 'w');
}

TEST_F(SpoolTest, WholeMessagesAreCreatedAndKeptByTheGroupCommitsRounds) {
  // Small messages at once, each handed whole to the group commit: its
  // rounds create, write and sync them.
  asio::io_context io;
  constexpr int n = 16;
  std::vector<std::string> ids(n);
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          auto e = envelope();  // named: GCC 12 fails on this temporary in a co_await
          e.id = spool->new_id();
          auto id = co_await spool->commit_whole(e, whole_message(i));
          if (id) ids[static_cast<std::size_t>(i)] = *id;
        },
        asio::detached);
  }
  io.run();
  expect_kept(ids, whole_message);
  EXPECT_EQ(spool->commit_stats().items, static_cast<std::size_t>(n));
}

TEST_F(SpoolTest, AWholeMessageThatCannotBeCreatedFailsAloneAndLeavesNothing) {
  // Its id names an existing file in tmp/ (create refuses to overwrite):
  // that message fails, the one beside it in the round is kept.
  auto bad = envelope();
  bad.id = spool->new_id();
  fs::create_directory(spool->tmp_dir() + "/" + bad.id);
  asio::io_context io;
  Expected<std::string> failed = make_error("not run"), kept = make_error("not run");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        failed = co_await spool->commit_whole(bad, whole_message(1));
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto e = envelope();
        e.id = spool->new_id();
        kept = co_await spool->commit_whole(e, whole_message(2));
      },
      asio::detached);
  io.run();
  EXPECT_FALSE(failed);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_FALSE(fs::exists(spool->queue_dir() + "/" + bad.id));
  auto r = spool->recover_all();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].envelope.id, *kept);
}

TEST(SpoolList, NoSpoolIsAnError) {
  ScratchDir dir;
  auto entries = Spool::list(dir.path() + "/none");
  ASSERT_FALSE(entries);
  EXPECT_NE(entries.error().message.find("no spool"), std::string::npos);
}

}  // namespace
}  // namespace relayscope::server
