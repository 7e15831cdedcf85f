// The worker: results come back to the awaiting coroutine, a directory a
// batch could not fsync fails every job of the batch (so nobody answers 250
// for a rename that is not durable), and directories are synced once a batch.
#include "server/worker.hpp"

#include <gtest/gtest.h>

#include "test_io.hpp"

namespace relayscope::server {
namespace {

using testing::run_coroutine;
using testing::ScratchDir;

asio::awaitable<Expected<int>> job_value(Worker& w, int v) {
  auto job = [v](Batch&) -> Expected<int> { return v * 2; };
  auto r = co_await w.run<int>(std::move(job));
  co_return r;
}

asio::awaitable<Expected<int>> job_syncing(Worker& w, std::string dir) {
  auto job = [dir](Batch& b) -> Expected<int> {
    b.sync_dir_later(dir);
    return 1;
  };
  auto r = co_await w.run<int>(std::move(job));
  co_return r;
}

TEST(Worker, ReturnsTheJobsResult) {
  Worker w(2, true);
  auto r = run_coroutine(job_value(w, 21));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
}

TEST(Worker, AFailedDirectorySyncFailsTheJob) {
  Worker w(1, true);
  auto r = run_coroutine(job_syncing(w, "/nonexistent/relayscope/dir"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent/relayscope/dir"), std::string::npos);
}

TEST(Worker, ASyncedDirectoryLetsTheJobSucceed) {
  ScratchDir dir;
  Worker w(1, true);
  auto r = run_coroutine(job_syncing(w, dir.path()));
  ASSERT_TRUE(r) << r.error().message;
}

TEST(Worker, WithoutFsyncNothingIsSynced) {
  Worker w(1, false);
  auto r = run_coroutine(job_syncing(w, "/nonexistent/relayscope/dir"));
  EXPECT_TRUE(r);
}

TEST(Batch, EachDirectoryOnce) {
  Batch b(true);
  b.sync_dir_later("/a");
  b.sync_dir_later("/b");
  b.sync_dir_later("/a");
  EXPECT_EQ(b.dirs().size(), 2u);
}

TEST(Worker, ManyConcurrentJobsAllComplete) {
  Worker w(2, true, 8);
  asio::io_context io;
  int done = 0;
  for (int i = 0; i < 200; ++i) {
    asio::co_spawn(
        io,
        [&w, &done, i]() -> asio::awaitable<void> {
          auto r = co_await job_value(w, i);
          if (r && *r == 2 * i) {
            ++done;
          }
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(done, 200);
}

TEST(Worker, ConcurrentSyncsOfOneDirectoryAllSucceed) {
  ScratchDir dir;
  Worker w(4, true, 1);  // batches of one: the threads share the fsyncs
  asio::io_context io;
  int ok = 0;
  for (int i = 0; i < 100; ++i) {
    asio::co_spawn(
        io,
        [&w, &ok, &dir]() -> asio::awaitable<void> {
          auto r = co_await job_syncing(w, dir.path());
          if (r) {
            ++ok;
          }
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(ok, 100);
}

TEST(Worker, AFailedFsyncStaysFailed) {
  Worker w(2, true);
  EXPECT_FALSE(run_coroutine(job_syncing(w, "/nonexistent/relayscope/dir")));
  EXPECT_FALSE(run_coroutine(job_syncing(w, "/nonexistent/relayscope/dir")));
  ScratchDir dir;
  EXPECT_TRUE(run_coroutine(job_syncing(w, dir.path())));  // other directories are not affected
}

}  // namespace
}  // namespace relayscope::server
