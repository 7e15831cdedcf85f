// The spool's spent files (spool_pool.hpp): a removed message's file is
// written over by the next message, with no new inode and nothing of the
// old message left in it; big files and a full pool are not kept; at start
// the pool takes in what free/ holds and removes what is not its own.
#include "server/spool_pool.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <asio.hpp>
#include <filesystem>
#include <fstream>

#include "server/spool.hpp"
#include "test_io.hpp"

namespace relayscope::server {
namespace {

namespace fs = std::filesystem;
using testing::run_coroutine;
using testing::ScratchDir;

ino_t inode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

SpoolEnvelope envelope(std::string id) {
  SpoolEnvelope e;
  e.id = std::move(id);
  e.arrival = 1795400000;
  e.client = "127.0.0.2";
  e.helo = "client.example.org";
  e.mail_from = "alice@example.test";
  e.recipients = {"bob@remote.test"};
  return e;
}

struct PoolSpool {
  ScratchDir dir;
  Worker worker{2, true};
  std::unique_ptr<Spool> spool;
  PoolSpool() {
    auto s = Spool::open(dir.path() + "/spool", worker);
    EXPECT_TRUE(s) << s.error().message;
    spool = std::move(*s);
  }
  std::string commit_whole(std::string id, std::string content) {
    auto e = envelope(std::move(id));
    auto r = run_coroutine(spool->commit_whole(std::move(e), std::move(content)));
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : std::string();
  }
};

TEST(SpoolFilePool, ARemovedMessagesFileCarriesTheNextMessageWithNoNewInode) {
  PoolSpool s;
  const std::string long_one = "Subject: first\r\n\r\n" + std::string(5000, 'a') + "\r\n";
  auto first = s.commit_whole("AAA1", long_one);
  auto inode = inode_of(s.spool->queue_dir() + "/" + first);
  ASSERT_TRUE(run_coroutine(s.spool->remove(first)));
  EXPECT_FALSE(fs::exists(s.spool->queue_dir() + "/" + first));
  EXPECT_FALSE(fs::is_empty(s.spool->free_dir()));  // kept, not unlinked

  // A shorter message: nothing of the first one's tail may remain.
  auto second = s.commit_whole("AAA2", "Subject: second\r\n\r\nshort\r\n");
  EXPECT_EQ(inode_of(s.spool->queue_dir() + "/" + second), inode);
  EXPECT_TRUE(fs::is_empty(s.spool->free_dir()));
  auto m = s.spool->read_message(second);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(*m, "Subject: second\r\n\r\nshort\r\n");
  auto r = s.spool->recover_all();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->entries.size(), 1u);
  EXPECT_TRUE(r->corrupt.empty());
}

TEST(SpoolFilePool, AStreamedMessageIsWrittenOverASpentFileToo) {
  PoolSpool s;
  auto first = s.commit_whole("BBB1", "Subject: first\r\n\r\nbody\r\n");
  auto inode = inode_of(s.spool->queue_dir() + "/" + first);
  ASSERT_TRUE(run_coroutine(s.spool->remove(first)));
  asio::io_context io;
  std::string id;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // Named: GCC 12 fails on temporaries in a co_await.
        auto e = envelope("BBB2");
        std::string head = "Received: by test\r\n", rest = "\r\nstreamed\r\n";
        auto in = co_await s.spool->begin(e, head);
        if (!in) co_return;
        auto appended = co_await s.spool->append(*in, rest);
        if (!appended) co_return;
        auto committed = co_await s.spool->commit(*in);
        if (committed) id = *committed;
      },
      asio::detached);
  io.run();
  ASSERT_EQ(id, "BBB2");
  EXPECT_EQ(inode_of(s.spool->queue_dir() + "/" + id), inode);
  auto m = s.spool->read_message(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, "Received: by test\r\n\r\nstreamed\r\n");
}

TEST(SpoolFilePool, BigFilesAndFilesPastTheCapacityAreNotKept) {
  ScratchDir dir;
  fs::create_directories(dir.path() + "/free");
  SpoolFilePool pool(dir.path() + "/free", 1);
  ASSERT_TRUE(pool.adopt());
  spit(dir.path() + "/big", std::string(SpoolFilePool::max_file_size + 1, 'x'));
  spit(dir.path() + "/a", "a");
  spit(dir.path() + "/b", "b");
  EXPECT_FALSE(pool.give(dir.path() + "/big"));
  auto given = pool.give(dir.path() + "/a");
  ASSERT_TRUE(given);
  EXPECT_FALSE(pool.give(dir.path() + "/b"));  // full (counting the one settling)
  EXPECT_FALSE(pool.give(dir.path() + "/gone"));
  pool.settled(*given, true);
  EXPECT_EQ(pool.size(), 1u);
  auto taken = pool.take();
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->rfind(dir.path() + "/free/", 0), 0u) << *taken;
  EXPECT_FALSE(pool.take());
}

TEST(SpoolFilePool, AFileIsTakenOnlyOnceTheRemovalOfItsOldNameIsDurable) {
  ScratchDir dir;
  fs::create_directories(dir.path() + "/free");
  SpoolFilePool pool(dir.path() + "/free", 4);
  ASSERT_TRUE(pool.adopt());
  spit(dir.path() + "/a", "a");
  spit(dir.path() + "/b", "b");
  auto a = pool.give(dir.path() + "/a");
  auto b = pool.give(dir.path() + "/b");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(fs::exists(dir.path() + "/a"));
  EXPECT_FALSE(pool.take());  // the renames are not durable yet
  pool.settled(*a, true);
  pool.settled(*b, false);  // its round failed: never written over now
  EXPECT_EQ(pool.take(), a);
  EXPECT_FALSE(pool.take());
  EXPECT_TRUE(fs::exists(*b));  // left for the next start
}

TEST(SpoolFilePool, AtStartItTakesInItsOwnFilesAndRemovesTheRest) {
  ScratchDir dir;
  auto free = dir.path() + "/free";
  fs::create_directories(free + "/a-directory");
  spit(free + "/7", "left by a crash");
  spit(free + "/not-ours", "x");
  spit(free + "/99999999999999999999", "past a 64-bit counter");
  SpoolFilePool pool(free, 8);
  ASSERT_TRUE(pool.adopt());
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_FALSE(fs::exists(free + "/not-ours"));
  EXPECT_FALSE(fs::exists(free + "/99999999999999999999"));
  EXPECT_FALSE(fs::exists(free + "/a-directory"));
  // New names do not clash with the one taken in.
  spit(dir.path() + "/m", "m");
  ASSERT_TRUE(pool.give(dir.path() + "/m"));
  EXPECT_TRUE(fs::exists(free + "/7"));
  EXPECT_TRUE(fs::exists(free + "/8"));
}

}  // namespace
}  // namespace relayscope::server
