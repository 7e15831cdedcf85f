// The one durable write of relayscope (spool, Maildirs, collector): write a
// temporary file, fdatasync it, rename it to its final name, fsync the
// directory. Only after the last step may anyone be told the data is safe.
// Blocking: call it off the event loop (a worker thread). The directory
// sync is left to the caller when it can share one sync among many files
// (group commit); write_durably() does all four steps for one file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace relayscope {

class DurableFile {
 public:
  // Creates `tmp_path` (which must not exist), to become `final_path`.
  static Expected<DurableFile> create(std::string tmp_path, std::string final_path);
  DurableFile(DurableFile&& other) noexcept;
  DurableFile& operator=(DurableFile&&) = delete;
  DurableFile(const DurableFile&) = delete;
  ~DurableFile();  // an unfinished file is removed

  Status append(std::string_view data);
  Status write_at(std::uint64_t offset, std::string_view data);  // overwrite in place
  std::uint64_t size() const { return size_; }
  // fdatasync (when `sync`), close, rename. The directory is not synced.
  Status finish(bool sync);
  // Close and remove the temporary file.
  void abandon();
  const std::string& final_path() const { return final_; }

 private:
  DurableFile(int fd, std::string tmp, std::string final_path)
      : fd_(fd), tmp_(std::move(tmp)), final_(std::move(final_path)) {}
  int fd_ = -1;
  std::string tmp_;
  std::string final_;
  std::uint64_t size_ = 0;
  bool done_ = false;
};

// fsync of a directory (after a rename or a create in it); Ok when !sync.
Status sync_directory(const std::string& dir, bool sync);

// All four steps for one file whose content is at hand.
Status write_durably(const std::string& tmp_path, const std::string& final_path,
                     std::string_view data, bool sync = true);

}  // namespace relayscope
