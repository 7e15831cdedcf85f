// The files of finished messages, kept in the spool's free/ for new ones.
// Making a file per message costs more than writing it: the filesystem
// allocates an inode with the directory's lock held, and ext4 without a
// journal scans past every inode freed in the last minutes for one it may
// reuse (`recently_deleted`); under bench/relay-throughput's load that was
// a third of the relay's CPU, and other threads spun on the lock. So a
// finished message's file is renamed into free/ rather than unlinked (while
// the pool has room, and small files only), and a new message is written
// over one of them (DurableFile::reuse; a small message written whole goes
// in place, keeping the file's blocks too, and carries a check of its bytes:
// spool_check.hpp): a rename each way, no inode made or freed, as a journal
// reuses its segments. A file in free/ holds nothing
// anyone was promised: a crash leaves there only what may be overwritten.
// Thread-safe (the sync threads and the workers take and give).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::server {

class SpoolFilePool {
 public:
  // Files up to this size are kept (a big message's blocks are not held).
  static constexpr std::uint64_t max_file_size = 128 * 1024;

  SpoolFilePool(std::string dir, std::size_t capacity);
  // At start: takes in what free/ holds (up to the capacity; the rest, and
  // anything that is not a plain file, is removed). The caller makes free/
  // and queue/ durable before taking any.
  Status adopt();
  // A file to write a new message over, or none (make a new one).
  std::optional<std::string> take();
  // Moves a finished message's file into free/ and returns its name
  // there; none when it was not taken (the pool full, the file big or
  // gone, the rename refused): the caller unlinks it as before. Not taken
  // out again before settled(): a file is written over only once the
  // removal of its old name is durable, so that no crash can leave the old
  // message's name on a file that holds some of a new message's blocks.
  std::optional<std::string> give(const std::string& path);
  // The removal of what give() took in was made durable (`durable`): the
  // file may be taken; or it was not: it stays in free/ unused (taken in
  // again at the next start).
  void settled(std::string path, bool durable);
  std::size_t size() const;
  const std::string& dir() const { return dir_; }

  // What the pool did, for the log line at stop and the tests.
  struct Stats {
    std::uint64_t reused = 0;  // take() gave a file
    std::uint64_t missed = 0;  // take() had none: a new file was made
    std::uint64_t kept = 0;    // give() took a file in
  };
  Stats stats() const;

 private:
  std::string dir_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<std::string> free_;
  std::size_t settling_ = 0;  // given, not yet settled
  std::uint64_t next_ = 0;    // the next name in free/
  Stats stats_;
};

}  // namespace relayscope::server
