// See worker.hpp.
#include "server/worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/durable_file.hpp"

namespace relayscope::server {

Status sync_dir(const std::string& dir, bool fsync) {
  return sync_directory(dir, fsync);
}

Worker::Worker(std::size_t threads, bool fsync, std::size_t max_batch)
    : fsync_(fsync), max_batch_(max_batch == 0 ? 1 : max_batch) {
  if (threads == 0) {
    threads = 1;
  }
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { loop(); });
  }
}

Worker::~Worker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    t.join();
  }
}

void Worker::push(std::unique_ptr<Job> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

Status Worker::sync_shared(const std::string& dir) {
  if (!fsync_) {
    return Ok{};
  }
  std::unique_lock lock(sync_mutex_);
  auto& s = syncs_[dir];
  // Our renames are done: any fsync that starts from now on covers them.
  auto ticket = ++s.requested;
  while (s.done < ticket && s.broken.empty()) {
    if (s.running) {
      sync_cv_.wait(lock);
      continue;
    }
    s.running = true;
    auto target = s.requested;
    lock.unlock();
    auto r = sync_dir(dir, true);
    lock.lock();
    s.running = false;
    if (r) {
      s.done = target;
    } else {
      s.broken = r.error().message;
    }
    sync_cv_.notify_all();
  }
  if (!s.broken.empty()) {
    return make_error(s.broken);
  }
  return Ok{};
}

void Worker::loop() {
  for (;;) {
    std::vector<std::unique_ptr<Job>> batch;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;  // stopping, and nothing left
      }
      while (!jobs_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(jobs_.front()));
        jobs_.pop_front();
      }
    }
    Batch b(fsync_);
    for (auto& j : batch) {
      j->execute(b);
    }
    // One fsync per directory for the whole batch: the group commit.
    for (const auto& dir : b.dirs()) {
      if (auto s = sync_shared(dir); !s) {
        for (auto& j : batch) {
          j->fail(s.error().message);
        }
      }
    }
    for (auto& j : batch) {
      j->complete();
    }
  }
}

}  // namespace relayscope::server
