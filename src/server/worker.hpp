// Blocking work (fsync, rename, argon2id) off the network thread: a few
// threads take jobs in batches; the directories a batch asks to sync are
// fsync'd once per batch, and an fsync of a directory that starts after a
// batch's renames serves every thread waiting for it (group commit across
// threads). Then each job's coroutine resumes on its own executor. A job's
// Expected result turns into an error when its directory sync failed, so
// nobody answers 250 for an unsynced rename; after one failed fsync of a
// directory every later sync of it fails too (the kernel may have dropped
// what it could not write: retrying fsync would wrongly report success).
#pragma once

#include <asio.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::server {

// What a job may ask of its batch.
class Batch {
 public:
  explicit Batch(bool fsync) : fsync_(fsync) {}
  void sync_dir_later(const std::string& dir) { dirs_.insert(dir); }
  bool fsync_enabled() const { return fsync_; }
  const std::set<std::string>& dirs() const { return dirs_; }

 private:
  bool fsync_;
  std::set<std::string> dirs_;
};

class Worker {
 public:
  // `fsync` false turns every fsync into nothing (throwaway test setups only).
  Worker(std::size_t threads, bool fsync, std::size_t max_batch = 32);
  ~Worker();  // finishes queued jobs, joins
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs fn(batch) on a worker thread (fn: Expected<T>(Batch&)); resumes the
  // awaiting coroutine on its own executor. Not a coroutine itself: the job
  // and its handler are handed over once, by value.
  template <class T, class F>
  asio::awaitable<Expected<T>> run(F fn) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(Expected<T>)>(
        [this](auto handler, F f) {
          auto ex = asio::get_associated_executor(handler);
          push(std::make_unique<TypedJob<T, F, decltype(handler), decltype(ex)>>(
              std::move(f), std::move(handler), std::move(ex)));
        },
        asio::use_awaitable, std::move(fn));
  }

  // For code that has no coroutine (start-up): runs on the caller's thread.
  bool fsync_enabled() const { return fsync_; }

 private:
  struct Job {
    virtual ~Job() = default;
    virtual void execute(Batch& b) = 0;
    virtual void fail(const std::string& why) = 0;  // the batch's dir sync failed
    virtual void complete() = 0;                    // posts the result to the caller
  };

  template <class T, class F, class Handler, class Executor>
  struct TypedJob : Job {
    TypedJob(F f, Handler h, Executor e)
        : fn(std::move(f)), handler(std::move(h)), ex(std::move(e)) {}
    F fn;
    Handler handler;
    Executor ex;
    std::optional<Expected<T>> result;
    void execute(Batch& b) override { result.emplace(fn(b)); }
    void fail(const std::string& why) override {
      if (result && *result) result.emplace(make_error(why));
    }
    void complete() override {
      asio::post(ex, [h = std::move(handler), r = std::move(*result)]() mutable {
        std::move(h)(std::move(r));
      });
    }
  };

  void push(std::unique_ptr<Job> job);
  void loop();
  // fsync of `dir` by this thread or by one that started after this call.
  Status sync_shared(const std::string& dir);

  struct DirSync {
    std::uint64_t requested = 0;  // tickets handed out
    std::uint64_t done = 0;       // every ticket up to this is synced
    bool running = false;
    std::string broken;  // the first fsync error, sticky
  };

  bool fsync_;
  std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::mutex sync_mutex_;
  std::condition_variable sync_cv_;
  std::map<std::string, DirSync> syncs_;
};

// fsync of a directory (after a rename or a create in it); Ok when fsync is off.
Status sync_dir(const std::string& dir, bool fsync);

}  // namespace relayscope::server
