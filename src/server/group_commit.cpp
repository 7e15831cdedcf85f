// See group_commit.hpp.
#include "server/group_commit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relayscope::server {

namespace {

// Rounds between two measures of the way not taken (in a small round).
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
  if (settings_.sync_threads == 0) settings_.sync_threads = 1;
  // Kept open for the syncfs of every round (else opened by each round).
  dir_fd_ = ::open(settings_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (std::size_t i = 0; i < settings_.sync_threads; ++i) {
    threads_.emplace_back([this] { loop(); });
  }
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

std::string GroupCommit::broken() const {
  std::lock_guard lock(mutex_);
  return broken_;
}

void GroupCommit::fail_if_broken(std::vector<Pending>& round) {
  auto why = broken();
  if (why.empty()) return;
  for (auto& p : round) {
    if (!p.result) continue;
    p.result = make_error(why);
    if (p.item.file && p.item.file->published()) ::unlink(p.item.file->final_path().c_str());
  }
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
      bool urgent = !item.may_wait;
      queue_.push_back(Pending{std::move(item), std::move(waiter)});
      // An item that may wait wakes no thread: an idle one looks at the
      // queue every `may_wait` anyway.
      if (urgent) {
        ++urgent_;
        cv_.notify_one();
      }
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
      for (;;) {
        if (stopping_ || urgent_ > 0) break;
        if (queue_.empty()) {
          cv_.wait_for(lock, settings_.may_wait);
          continue;
        }
        // Only items that may wait: a round once the oldest waited enough.
        auto due = queue_.front().since + settings_.may_wait;
        if (std::chrono::steady_clock::now() >= due) break;
        cv_.wait_until(lock, due);
      }
      if (queue_.empty()) return;  // stopping, and nothing left
      // Everything handed in since the last round (the group).
      while (!queue_.empty() && round.size() < settings_.max_round) {
        if (!queue_.front().item.may_wait) --urgent_;
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
  if (auto why = broken(); !why.empty()) {
    for (auto& p : round) fail(p, why);
    return;
  }
  for (auto& p : round) {
    if (!p.item.before) continue;
    p.result = p.item.before();
    if (!p.result) fail(p, p.result.error().message);
  }
  std::vector<Pending*> files;
  for (auto& p : round) {
    if (p.result && p.item.file) files.push_back(&p);
  }
  if (settings_.fsync && !files.empty() && use_filesystem_sync(files.size())) {
    names_with_data(round, files);
    return;
  }
  if (settings_.fsync && !files.empty()) {
    // The data first: a name in queue/ must never point at data not on disk.
    sync_each_file(files);
  }
  for (auto* p : files) {
    if (p->result) p->result = p->item.file->publish();
  }
  bool changed = false;
  for (auto& p : round) changed = changed || static_cast<bool>(p.result);
  if (!settings_.fsync || !changed) return;
  // One fsync of the directory for the whole round: the group commit.
  sync_directory_of(round);
  fail_if_broken(round);
}

// One syncfs(2) after the renames makes a round durable with one flush of
// the disk instead of two (data, then directory). The guarantee is the same
// as the two-step way's for anyone told 250: syncfs returns only once every
// page and inode of the filesystem dirtied before it started (the files'
// data, their sizes, the renames into queue/ and the round's unlinks) is
// written and the disk's cache flushed, and nobody is completed before it
// returns. What changes is a crash during the syncfs: the rename may reach
// the disk before (all of) the data, so a name in queue/ may point at a file
// cut short, of a message that was never answered 250 (its client sends it
// again). Such a file is never delivered: the envelope records the message's
// size (written last, at commit) and recovery moves a file whose length does
// not match it to corrupt/ (parse_envelope_head: "message cut short"). A
// new or emptied file whose blocks were not written shows as short, not as
// stale bytes, on ext4 and the other journalling filesystems (data=ordered);
// one written over a spent file in place may show some of the old
// message's bytes, and its envelope's check tells (spool_check.hpp: moved to
// corrupt/ too). When the syncfs fails, each file is synced on its own and
// queue/ fsync'd.
void GroupCommit::names_with_data(std::vector<Pending>& round, std::vector<Pending*>& files) {
  for (auto* p : files) p->result = p->item.file->publish_open();
  int dir_fd =
      dir_fd_ >= 0 ? dir_fd_ : ::open(settings_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  Status s = dir_fd < 0
                 ? Status(make_error("cannot open " + settings_.dir + ": " + std::strerror(errno)))
                 : Status(Ok{});
  auto t0 = std::chrono::steady_clock::now();
  if (s) s = ops_.sync_filesystem(dir_fd);
  if (dir_fd >= 0 && dir_fd != dir_fd_) ::close(dir_fd);
  {
    std::lock_guard lock(mutex_);
    average(filesystem_sync_us_, micros_since(t0));
    ++stats_.filesystem_syncs;
  }
  if (s) {
    for (auto* p : files) p->item.file->close();
    fail_if_broken(round);
    return;
  }
  // It may have failed for another file of the filesystem: each file on its
  // own tells which of ours really failed (still open for that); one that
  // cannot be synced loses the name it was given.
  sync_each_file(files);
  for (auto* p : files) {
    if (!p->result && p->item.file->published()) {
      ::unlink(p->item.file->final_path().c_str());
    }
    p->item.file->close();
  }
  bool changed = false;
  for (auto& p : round) changed = changed || static_cast<bool>(p.result);
  if (changed) sync_directory_of(round);
  fail_if_broken(round);
}

void GroupCommit::sync_directory_of(std::vector<Pending>& round) {
  auto s = ops_.sync_dir(settings_.dir);
  {
    std::lock_guard lock(mutex_);
    ++stats_.dir_syncs;
  }
  if (s) return;
  {
    std::lock_guard lock(mutex_);
    if (broken_.empty()) broken_ = s.error().message;
  }
  for (auto& p : round) {
    if (!p.result) continue;
    p.result = make_error(s.error().message);
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
  std::lock_guard lock(mutex_);
  if (filesystem_sync_us_ == 0) return true;  // not measured yet
  // A syncfs against a data sync per file and the fsync of queue/.
  bool cheaper =
      file_sync_us_ == 0 || filesystem_sync_us_ < static_cast<double>(files + 1) * file_sync_us_;
  // Now and then, in a small round (cheap either way), the other way is
  // measured again: the filesystem's other dirty data (what syncfs must
  // also write) comes and goes.
  if (++rounds_since_probe_ >= filesystem_probe_every && files <= 2) {
    rounds_since_probe_ = 0;
    return !cheaper;
  }
  return cheaper;
}

void GroupCommit::sync_each_file(std::vector<Pending*>& files) {
  for (auto* p : files) {
    if (!p->result) continue;
    auto t0 = std::chrono::steady_clock::now();
    auto s = ops_.sync_file(*p->item.file);
    {
      std::lock_guard lock(mutex_);
      average(file_sync_us_, micros_since(t0));
      ++stats_.file_syncs;
    }
    if (!s) {
      p->result = s;
      p->item.file->abandon();
    }
  }
}

}  // namespace relayscope::server
