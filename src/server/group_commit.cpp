// See group_commit.hpp.
#include "server/group_commit.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relayscope::server {

namespace {

// Rounds that chose fdatasync per file before syncfs is measured again: the
// filesystem's other dirty data (what syncfs must also write) comes and goes.
constexpr std::uint64_t filesystem_probe_every = 64;

void average(double& avg, double sample) {
  avg = avg == 0 ? sample : 0.8 * avg + 0.2 * sample;
}

double micros_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

GroupCommit::Ops GroupCommit::system_ops() {
  Ops o;
  o.sync_file = [](DurableFile& f) { return f.sync(); };
  o.sync_filesystem = [](int fd) -> Status {
    if (::syncfs(fd) != 0) {
      return make_error(std::string("cannot sync the spool's filesystem: ") + std::strerror(errno));
    }
    return Ok{};
  };
  o.sync_dir = [](const std::string& dir) { return sync_directory(dir, true); };
  return o;
}

GroupCommit::GroupCommit(Settings settings, Ops ops)
    : settings_(std::move(settings)), ops_(std::move(ops)) {
  if (settings_.max_round == 0) settings_.max_round = 1;
  thread_ = std::thread([this] { loop(); });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

GroupCommit::Stats GroupCommit::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void GroupCommit::push(Item item, std::unique_ptr<Waiter> waiter) {
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < settings_.max_pending) {
      queue_.push_back(Pending{std::move(item), std::move(waiter)});
      cv_.notify_one();
      return;
    }
    stopping = stopping_;
    ++stats_.failed;
  }
  // Posted, not run here: the caller's coroutine is still being suspended.
  waiter->complete(
      make_error(stopping ? "the spool is stopping" : "too many messages waiting for the disk"));
}

void GroupCommit::loop() {
  for (;;) {
    std::vector<Pending> round;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      // Everything handed in since the last round (the group).
      while (!queue_.empty() && round.size() < settings_.max_round) {
        round.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_round(round);
    {
      std::lock_guard lock(mutex_);
      ++stats_.rounds;
      stats_.items += round.size();
      stats_.largest_round = std::max(stats_.largest_round, round.size());
      for (const auto& p : round) stats_.failed += p.result ? 0 : 1;
    }
    for (auto& p : round) p.waiter->complete(std::move(p.result));
  }
}

void GroupCommit::run_round(std::vector<Pending>& round) {
  auto fail = [](Pending& p, const std::string& why) {
    if (p.result) p.result = make_error(why);
    if (p.item.file) p.item.file->abandon();  // nothing once published
  };
  if (!broken_.empty()) {
    for (auto& p : round) fail(p, broken_);
    return;
  }
  for (auto& p : round) {
    if (!p.item.before) continue;
    p.result = p.item.before();
    if (!p.result) fail(p, p.result.error().message);
  }
  // The data first: a name in queue/ must never point at data not on disk.
  std::vector<Pending*> files;
  for (auto& p : round) {
    if (p.result && p.item.file) files.push_back(&p);
  }
  if (settings_.fsync && !files.empty()) sync_data(files);
  bool changed = false;
  for (auto& p : round) {
    if (!p.result) continue;
    if (p.item.file) {
      p.result = p.item.file->publish();
      if (!p.result) continue;
    }
    changed = true;
  }
  if (!settings_.fsync || !changed) return;
  // One fsync of the directory for the whole round: the group commit.
  auto s = ops_.sync_dir(settings_.dir);
  {
    std::lock_guard lock(mutex_);
    ++stats_.dir_syncs;
  }
  if (s) return;
  broken_ = s.error().message;
  for (auto& p : round) {
    if (!p.result) continue;
    p.result = make_error(broken_);
    // The client is told 451 and sends again: never keep a copy whose name
    // may not be durable, or a restart would deliver it a second time.
    if (p.item.file && p.item.file->published()) ::unlink(p.item.file->final_path().c_str());
  }
}

bool GroupCommit::use_filesystem_sync(std::size_t files) {
  switch (settings_.data_sync) {
    case DataSync::each_file:
      return false;
    case DataSync::filesystem:
      return true;
    case DataSync::automatic:
      break;
  }
  if (files < 2) return false;
  if (filesystem_sync_us_ == 0 || file_sync_us_ == 0 ||
      ++rounds_since_filesystem_ >= filesystem_probe_every) {
    return true;  // not measured yet, or measured long ago
  }
  return filesystem_sync_us_ < static_cast<double>(files) * file_sync_us_;
}

void GroupCommit::sync_data(std::vector<Pending*>& files) {
  if (use_filesystem_sync(files.size())) {
    rounds_since_filesystem_ = 0;
    auto t0 = std::chrono::steady_clock::now();
    // One syncfs covers every file's data written before it started.
    auto s = ops_.sync_filesystem(files.front()->item.file->fd());
    average(filesystem_sync_us_, micros_since(t0));
    {
      std::lock_guard lock(mutex_);
      ++stats_.filesystem_syncs;
    }
    if (s) return;
    // It may fail for another file of the filesystem: each file on its own
    // tells which of ours really failed.
  }
  for (auto* p : files) {
    auto t0 = std::chrono::steady_clock::now();
    auto s = ops_.sync_file(*p->item.file);
    average(file_sync_us_, micros_since(t0));
    {
      std::lock_guard lock(mutex_);
      ++stats_.file_syncs;
    }
    if (!s) {
      p->result = s;
      p->item.file->abandon();
    }
  }
}

}  // namespace relayscope::server
