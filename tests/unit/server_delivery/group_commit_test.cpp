// The spool's group commit with its system calls replaced by recording
// fakes: many concurrent messages made durable by fewer syncs than messages,
// every waiter completed only after the sync that covers its file, data
// before names, and errors failing only what they touch.
#include "server/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "test_io.hpp"

namespace relayscope::server {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

// What the fake system calls saw, in order; the waiters add their own line.
struct Journal {
  std::mutex mutex;
  std::vector<std::string> events;
  std::condition_variable cv;
  bool hold_first = false;  // the first data sync waits until released
  bool released = false;
  bool first_entered = false;
  std::set<std::string> failing_files;  // final names whose data sync fails
  bool dir_fails = false;
  bool filesystem_fails = false;
  std::string queue;  // the directory the files are renamed to

  void add(std::string e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
  }
  // Blocks the sync thread in its first round until release().
  void maybe_hold() {
    std::unique_lock lock(mutex);
    if (!hold_first || first_entered) return;
    first_entered = true;
    cv.notify_all();
    cv.wait(lock, [this] { return released; });
  }
  void wait_entered() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [this] { return first_entered; });
  }
  void release() {
    std::lock_guard lock(mutex);
    released = true;
    cv.notify_all();
  }
};

GroupCommit::Ops fake_ops(Journal& j) {
  GroupCommit::Ops o;
  o.sync_file = [&j](DurableFile& f) -> Status {
    j.maybe_hold();
    auto name = fs::path(f.final_path()).filename().string();
    j.add("data " + name);
    if (j.failing_files.count(name)) return make_error("cannot fsync " + name + ": EIO");
    return f.sync();
  };
  o.sync_filesystem = [&j](int) -> Status {
    j.maybe_hold();
    // Which names were in queue/ when it ran (they must be: one syncfs
    // makes the names durable with the data).
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(j.queue, ec)) {
      j.add("named " + e.path().filename().string());
    }
    j.add("syncfs");
    if (j.filesystem_fails) return make_error("syncfs: EIO");
    return Ok{};
  };
  o.sync_dir = [&j](const std::string&) -> Status {
    j.add("dir");
    if (j.dir_fails) return make_error("cannot fsync queue/: EIO");
    return Ok{};
  };
  return o;
}

class GroupCommitTest : public ::testing::Test {
 protected:
  ScratchDir dir;
  Journal journal;
  std::string queue() const { return dir.path() + "/queue"; }
  std::string tmp() const { return dir.path() + "/tmp"; }
  void SetUp() override {
    journal.queue = queue();
    fs::create_directories(queue());
    fs::create_directories(tmp());
  }
  std::shared_ptr<DurableFile> file(const std::string& name, const std::string& text) {
    auto f = DurableFile::create(tmp() + "/" + name, queue() + "/" + name);
    EXPECT_TRUE(f);
    EXPECT_TRUE(f->append(text));
    return std::make_shared<DurableFile>(std::move(*f));
  }
  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // Starts one commit as a session does; its result lands in `results`.
  void spawn_commit(asio::io_context& io, GroupCommit& g, std::shared_ptr<DurableFile> f,
                    std::map<std::string, Status>& results) {
    auto name = fs::path(f->final_path()).filename().string();
    asio::co_spawn(
        io,
        [this, &g, &results, f, name]() -> asio::awaitable<void> {
          GroupCommit::Item item{f, {}};
          Status s = co_await g.commit(std::move(item));
          journal.add("done " + name);
          results.emplace(name, s);
        },
        asio::detached);
  }
  // Commits `files` from concurrent coroutines on one io_context; returns
  // each name's result once all are done.
  std::map<std::string, Status> commit_all(GroupCommit& g,
                                           std::vector<std::shared_ptr<DurableFile>> files) {
    asio::io_context io;
    std::map<std::string, Status> results;
    for (auto& f : files) spawn_commit(io, g, f, results);
    io.run();
    return results;
  }
  // The first file alone in a round held in its data sync; then `more`
  // handed in while it is held (they queue up); then the round released.
  std::map<std::string, Status> commit_behind_a_held_round(
      GroupCommit& g, std::shared_ptr<DurableFile> first,
      std::vector<std::shared_ptr<DurableFile>> more) {
    journal.hold_first = true;
    asio::io_context io;
    std::map<std::string, Status> results;
    spawn_commit(io, g, first, results);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          journal.wait_entered();  // the io thread is free: `first` is suspended
          for (auto& f : more) spawn_commit(io, g, f, results);
          // Posted after them: runs once each has handed its file in.
          asio::post(io, [this] { journal.release(); });
          co_return;
        },
        asio::detached);
    io.run();
    return results;
  }
  std::size_t count(const std::string& event) {
    std::lock_guard lock(journal.mutex);
    return static_cast<std::size_t>(
        std::count(journal.events.begin(), journal.events.end(), event));
  }
  std::ptrdiff_t position(const std::string& event) {
    std::lock_guard lock(journal.mutex);
    auto it = std::find(journal.events.begin(), journal.events.end(), event);
    return it == journal.events.end() ? -1 : it - journal.events.begin();
  }
};

// One sync thread: rounds one after the other, as these tests count them.
GroupCommit::Settings settings(const std::string& dir, GroupCommit::DataSync d) {
  GroupCommit::Settings s;
  s.dir = dir;
  s.data_sync = d;
  s.sync_threads = 1;
  return s;
}

TEST_F(GroupCommitTest, ManyConcurrentMessagesShareFewerSyncsThanMessages) {
  // The sync thread is held in its first round while 40 more arrive: they
  // all go into the next round, one directory fsync for the 40.
  GroupCommit g(settings(queue(), GroupCommit::DataSync::each_file), fake_ops(journal));
  std::vector<std::shared_ptr<DurableFile>> more;
  for (int i = 1; i <= 40; ++i)
    more.push_back(file("m" + std::to_string(i), "message " + std::to_string(i)));
  auto results = commit_behind_a_held_round(g, file("m0", "message 0"), more);
  ASSERT_EQ(results.size(), 41u);
  for (auto& [name, s] : results) {
    EXPECT_TRUE(s) << name << ": " << s.error().message;
    EXPECT_EQ(read(queue() + "/" + name).substr(0, 8), "message ");
    EXPECT_FALSE(fs::exists(tmp() + "/" + name));
  }
  auto st = g.stats();
  EXPECT_EQ(st.items, 41u);
  EXPECT_EQ(st.rounds, 2u);
  EXPECT_EQ(st.largest_round, 40u);
  EXPECT_EQ(st.dir_syncs, 2u);
  EXPECT_EQ(count("dir"), 2u);
  // The 40 were completed after the second directory fsync, not before.
  std::lock_guard lock(journal.mutex);
  const auto& ev = journal.events;
  auto second_dir = std::find(std::find(ev.begin(), ev.end(), "dir") + 1, ev.end(), "dir");
  for (int i = 1; i <= 40; ++i) {
    auto done = std::find(ev.begin(), ev.end(), "done m" + std::to_string(i));
    EXPECT_LT(second_dir - ev.begin(), done - ev.begin()) << i;
  }
}

TEST_F(GroupCommitTest, EveryWaiterIsCompletedOnlyAfterItsDataAndItsDirectorySync) {
  GroupCommit g(settings(queue(), GroupCommit::DataSync::each_file), fake_ops(journal));
  std::vector<std::shared_ptr<DurableFile>> files;
  for (int i = 0; i < 30; ++i) files.push_back(file("w" + std::to_string(i), "x"));
  auto results = commit_all(g, files);
  ASSERT_EQ(results.size(), 30u);
  std::lock_guard lock(journal.mutex);
  const auto& ev = journal.events;
  for (int i = 0; i < 30; ++i) {
    auto name = "w" + std::to_string(i);
    auto data = std::find(ev.begin(), ev.end(), "data " + name);
    auto done = std::find(ev.begin(), ev.end(), "done " + name);
    ASSERT_NE(data, ev.end()) << name;
    ASSERT_NE(done, ev.end()) << name;
    // A directory fsync between its data sync and its completion.
    EXPECT_NE(std::find(data, done, "dir"), done) << name;
  }
}

TEST_F(GroupCommitTest, OneSyncfsServesARound) {
  GroupCommit g(settings(queue(), GroupCommit::DataSync::filesystem), fake_ops(journal));
  std::vector<std::shared_ptr<DurableFile>> more;
  for (int i = 1; i < 20; ++i) more.push_back(file("f" + std::to_string(i), "y"));
  auto results = commit_behind_a_held_round(g, file("f0", "y"), more);
  for (auto& [name, s] : results) EXPECT_TRUE(s) << name;
  auto st = g.stats();
  EXPECT_EQ(st.file_syncs, 0u);
  EXPECT_EQ(st.filesystem_syncs, 2u);
  EXPECT_EQ(st.rounds, 2u);
  EXPECT_EQ(count("syncfs"), 2u);
  // No fsync of queue/: the syncfs came after the renames and covers them,
  // and every waiter was completed after the syncfs that named its file.
  EXPECT_EQ(st.dir_syncs, 0u);
  EXPECT_EQ(count("dir"), 0u);
  std::lock_guard lock(journal.mutex);
  const auto& ev = journal.events;
  for (int i = 0; i < 20; ++i) {
    auto name = "f" + std::to_string(i);
    auto named = std::find(ev.begin(), ev.end(), "named " + name);
    auto done = std::find(ev.begin(), ev.end(), "done " + name);
    ASSERT_NE(named, ev.end()) << name;
    ASSERT_NE(done, ev.end()) << name;
    EXPECT_NE(std::find(named, done, "syncfs"), done) << name;
    EXPECT_FALSE(fs::exists(tmp() + "/" + name)) << name;
  }
}

TEST_F(GroupCommitTest, WithTwoSyncThreadsARoundCompletesWhileAnotherIsStillSyncing) {
  // The first round is held inside its syncfs; a message handed in
  // meanwhile is made durable by a second round at once instead of waiting
  // for the first to finish.
  auto s = settings(queue(), GroupCommit::DataSync::filesystem);
  s.sync_threads = 2;
  GroupCommit g(s, fake_ops(journal));
  journal.hold_first = true;
  asio::io_context io;
  std::map<std::string, Status> results;
  spawn_commit(io, g, file("first", "1"), results);
  bool second_done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        journal.wait_entered();
        GroupCommit::Item item{file("second", "2"), {}};
        Status st = co_await g.commit(std::move(item));
        EXPECT_TRUE(st);
        second_done = true;
      },
      asio::detached);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!second_done && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(10));
  }
  bool first_done = results.count("first") != 0;
  journal.release();
  io.run();
  EXPECT_TRUE(second_done);
  EXPECT_FALSE(first_done);  // the second finished while the first was held
  ASSERT_TRUE(results.count("first"));
  EXPECT_TRUE(results.at("first"));
  EXPECT_EQ(g.stats().rounds, 2u);
  EXPECT_EQ(count("syncfs"), 2u);
}

TEST_F(GroupCommitTest, AFileWhoseDataCannotBeSyncedFailsAlone) {
  journal.failing_files = {"bad"};
  GroupCommit g(settings(queue(), GroupCommit::DataSync::each_file), fake_ops(journal));
  auto results = commit_all(g, {file("good1", "a"), file("bad", "b"), file("good2", "c")});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results.at("good1"));
  EXPECT_TRUE(results.at("good2"));
  ASSERT_FALSE(results.at("bad"));
  EXPECT_NE(results.at("bad").error().message.find("EIO"), std::string::npos);
  // Never renamed, and its temporary file is gone.
  EXPECT_FALSE(fs::exists(queue() + "/bad"));
  EXPECT_FALSE(fs::exists(tmp() + "/bad"));
  EXPECT_TRUE(fs::exists(queue() + "/good1"));
  EXPECT_EQ(g.stats().failed, 1u);
}

TEST_F(GroupCommitTest, AFailedSyncfsFallsBackToEachFile) {
  journal.filesystem_fails = true;
  journal.failing_files = {"bad"};
  GroupCommit g(settings(queue(), GroupCommit::DataSync::filesystem), fake_ops(journal));
  auto results = commit_all(g, {file("ok", "a"), file("bad", "b")});
  EXPECT_TRUE(results.at("ok"));
  EXPECT_FALSE(results.at("bad"));
  EXPECT_GE(count("data ok"), 1u);
  // The name the failed file was given before the syncfs is taken away;
  // the good one's rename is made durable by an fsync of queue/.
  EXPECT_FALSE(fs::exists(queue() + "/bad"));
  EXPECT_TRUE(fs::exists(queue() + "/ok"));
  EXPECT_EQ(count("dir"), 1u);
}

TEST_F(GroupCommitTest, AFailedDirectorySyncFailsItsRoundTakesTheNamesAwayAndStays) {
  journal.dir_fails = true;
  GroupCommit g(settings(queue(), GroupCommit::DataSync::each_file), fake_ops(journal));
  auto results = commit_all(g, {file("a", "1"), file("b", "2")});
  for (auto& [name, s] : results) {
    ASSERT_FALSE(s) << name;
    EXPECT_NE(s.error().message.find("queue/"), std::string::npos);
    // A name whose durability is unknown is not kept: the client sends again.
    EXPECT_FALSE(fs::exists(queue() + "/" + name)) << name;
  }
  // Later rounds fail too, without syncing again (a retried fsync would
  // wrongly report success).
  journal.dir_fails = false;
  auto dirs = count("dir");
  auto later = commit_all(g, {file("c", "3")});
  EXPECT_FALSE(later.at("c"));
  EXPECT_EQ(count("dir"), dirs);
  EXPECT_FALSE(fs::exists(queue() + "/c"));
  EXPECT_FALSE(fs::exists(tmp() + "/c"));
}

TEST_F(GroupCommitTest, ChangesWithoutAFileShareTheRoundAndAFullQueueFailsAtOnce) {
  { std::ofstream(queue() + "/old") << "old"; }
  GroupCommit g(settings(queue(), GroupCommit::DataSync::each_file), fake_ops(journal));
  asio::io_context io;
  Status removed = make_error("not run");
  auto path = queue() + "/old";
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto unlink = [path]() -> Status {
          return ::unlink(path.c_str()) == 0 ? Status(Ok{}) : Status(make_error("unlink"));
        };
        GroupCommit::Item item{nullptr, unlink};
        removed = co_await g.commit(std::move(item));
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(removed);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(count("dir"), 1u);  // the removal is durable too

  // A queue of one: with one file in a held round and one waiting, a
  // third is refused at once (451 for it), the other two are kept.
  auto s = settings(queue(), GroupCommit::DataSync::each_file);
  s.max_pending = 1;
  GroupCommit small(s, fake_ops(journal));
  auto results =
      commit_behind_a_held_round(small, file("q1", "1"), {file("q2", "2"), file("q3", "3")});
  EXPECT_TRUE(results.at("q1"));
  EXPECT_TRUE(results.at("q2"));
  ASSERT_FALSE(results.at("q3"));
  EXPECT_NE(results.at("q3").error().message.find("too many"), std::string::npos);
}

TEST_F(GroupCommitTest, ARemovalRidesWithTheNextMessagesRoundOrWaitsItsLimitAlone) {
  for (const char* name : {"r1", "r2"}) std::ofstream(queue() + "/" + name) << "done";
  auto removal = [this](const std::string& name) {
    GroupCommit::Item item{nullptr, [path = queue() + "/" + name]() -> Status {
                             ::unlink(path.c_str());
                             return Ok{};
                           }};
    item.may_wait = true;
    return item;
  };
  {
    // It could wait an hour: it is made durable by the round the message
    // that follows it starts, one round for both.
    auto s = settings(queue(), GroupCommit::DataSync::each_file);
    s.may_wait = std::chrono::hours(1);
    GroupCommit g(s, fake_ops(journal));
    asio::io_context io;
    std::map<std::string, Status> results;
    asio::co_spawn(
        io,
        [&, item = removal("r1")]() mutable -> asio::awaitable<void> {
          results.emplace("r1", co_await g.commit(std::move(item)));
        },
        asio::detached);
    spawn_commit(io, g, file("m1", "message"), results);
    io.run_for(std::chrono::seconds(20));
    ASSERT_EQ(results.size(), 2u);
    EXPECT_TRUE(results.at("r1"));
    EXPECT_TRUE(results.at("m1"));
    EXPECT_FALSE(fs::exists(queue() + "/r1"));
    EXPECT_EQ(g.stats().rounds, 1u);
  }
  {
    // Alone, it gets a round of its own once its limit has passed.
    auto s = settings(queue(), GroupCommit::DataSync::each_file);
    s.may_wait = std::chrono::milliseconds(200);
    GroupCommit g(s, fake_ops(journal));
    asio::io_context io;
    Status removed = make_error("not run");
    auto t0 = std::chrono::steady_clock::now();
    asio::co_spawn(
        io,
        [&, item = removal("r2")]() mutable -> asio::awaitable<void> {
          removed = co_await g.commit(std::move(item));
        },
        asio::detached);
    io.run_for(std::chrono::seconds(20));
    EXPECT_TRUE(removed);
    EXPECT_FALSE(fs::exists(queue() + "/r2"));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
  }
}

TEST_F(GroupCommitTest, WithoutFsyncNothingIsSyncedButFilesAreRenamed) {
  auto s = settings(queue(), GroupCommit::DataSync::automatic);
  s.fsync = false;
  GroupCommit g(s, fake_ops(journal));
  auto results = commit_all(g, {file("n1", "1"), file("n2", "2")});
  for (auto& [name, r] : results) EXPECT_TRUE(r) << name;
  EXPECT_TRUE(fs::exists(queue() + "/n1"));
  EXPECT_EQ(count("dir"), 0u);
  EXPECT_EQ(g.stats().file_syncs + g.stats().filesystem_syncs, 0u);
}

TEST_F(GroupCommitTest, TheRealSystemCallsMakeFilesDurable) {
  GroupCommit g(settings(queue(), GroupCommit::DataSync::automatic));
  std::vector<std::shared_ptr<DurableFile>> files;
  for (int i = 0; i < 10; ++i) files.push_back(file("r" + std::to_string(i), "real"));
  auto results = commit_all(g, files);
  for (auto& [name, r] : results) {
    EXPECT_TRUE(r) << name << ": " << (r ? "" : r.error().message);
    EXPECT_EQ(read(queue() + "/" + name), "real");
  }
  EXPECT_EQ(g.stats().items, 10u);
  EXPECT_GE(g.stats().dir_syncs + g.stats().filesystem_syncs, 1u);
}

}  // namespace
}  // namespace relayscope::server
