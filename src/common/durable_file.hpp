// The one durable write of relayscope (spool, Maildirs, collector, users
// file, relay windows, reports): write a temporary file, fdatasync it,
// rename it to its final name, fsync the directory. Only after the last step
// may anyone be told the data is safe. Blocking: call it off the event loop
// (a worker thread). The data sync and the directory sync can be left to the
// caller when it shares one sync among many files (group commit:
// server/group_commit.hpp); write_durably() does all four steps for one file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace relayscope {

struct DurableOptions {
  mode_t mode = 0600;  // of a new file (the umask applies)
  // A file already at the final name passes its owner and mode on to the
  // new one (a users file that the relay re-reads after dropping root).
  bool keep_existing_owner_and_mode = false;
  // A temporary file left by a writer that died is removed first (names
  // with a pid in them); off, an existing temporary file is an error.
  bool replace_stale_tmp = false;
};

class DurableFile {
 public:
  // Creates `tmp_path`, to become `final_path`.
  static Expected<DurableFile> create(std::string tmp_path, std::string final_path,
                                      const DurableOptions& options = {});
  // Writes a new content over `existing_path` (a spent file of a pool, see
  // server/spool_pool.hpp), to become `final_path`: no inode is made.
  // Emptied: the old blocks are freed and the new content gets new ones,
  // so a crash before the sync leaves a file cut short, never the old bytes
  // under the new name. In place: the old blocks are written over (none
  // freed or allocated: a tenth less of the relay's CPU per message in
  // bench/relay-throughput), to be filled by write_whole() alone; until
  // the sync any block may still hold the old bytes, so the content must
  // carry its own check (the spool's envelope does: spool_format.hpp).
  enum class Reuse { emptied, in_place };
  static Expected<DurableFile> reuse(std::string existing_path, std::string final_path,
                                     Reuse how = Reuse::emptied);
  // No file yet: every step but the destructor's cleanup is for a file
  // that create() made and moved in (a group commit that creates the file
  // on its own thread, server/spool_incoming.cpp).
  DurableFile() = default;
  DurableFile(DurableFile&& other) noexcept;
  // An unfinished file held before is removed first, as by the destructor.
  DurableFile& operator=(DurableFile&& other) noexcept;
  DurableFile(const DurableFile&) = delete;
  ~DurableFile();  // an unfinished file is removed

  Status append(std::string_view data);
  // The whole content in one write (head and body, write_all), from the start; a file
  // reused in place is then cut to it (nothing of a longer old content
  // stays behind).
  Status write_whole(std::string_view head, std::string_view body);
  Status write_at(std::uint64_t offset, std::string_view data);  // overwrite in place
  std::uint64_t size() const { return size_; }
  // The two halves of finish(), for a caller that syncs many files at once:
  // sync() puts the data on disk (fdatasync; fsync when owner or mode were
  // set, which are metadata), publish() closes and renames. A group commit
  // may skip sync() when one syncfs() of the file's filesystem, started
  // after the last write, succeeded.
  Status sync();
  Status publish();
  // publish() without closing: the name comes first and sync() may still
  // follow (a group commit making names and data durable with one syncfs
  // after the renames; see server/group_commit.cpp for the guarantee). The
  // file is closed by close() or the destructor.
  Status publish_open();
  void close();
  // sync() (when `sync`) then publish(). The directory is not synced.
  Status finish(bool sync);
  // Close and remove the temporary file (or nothing once published).
  void abandon();
  int fd() const { return fd_; }
  const std::string& tmp_path() const { return tmp_; }
  const std::string& final_path() const { return final_; }
  bool published() const { return published_; }

 private:
  DurableFile(int fd, std::string tmp, std::string final_path)
      : fd_(fd), tmp_(std::move(tmp)), final_(std::move(final_path)), done_(false) {}
  // The rename both publish() and publish_open() end with.
  Status rename_into_place();
  int fd_ = -1;
  std::string tmp_;
  std::string final_;
  std::uint64_t size_ = 0;
  bool done_ = true;  // nothing to remove: set false by create()
  bool published_ = false;
  bool full_sync_ = false;      // owner or mode changed: fsync, not fdatasync
  std::uint64_t old_size_ = 0;  // reused in place: the old content's length
};

// Writes `a` then `b` whole at fd's offset (one writev; on after a short
// write or EINTR); errors name `what`.
Status write_all(int fd, std::string_view a, std::string_view b, const std::string& what);

// fsync of a directory (after a rename or a create in it); Ok when !sync.
Status sync_directory(const std::string& dir, bool sync);

// The directory a path's entry lives in ("." for a bare name).
std::string parent_directory(const std::string& path);

// All four steps for one file whose content is at hand.
Status write_durably(const std::string& tmp_path, const std::string& final_path,
                     std::string_view data, bool sync = true, const DurableOptions& options = {});

}  // namespace relayscope
