// The running server's pid file, locked (flock) while it runs: one server per
// spool, and `relayscope queue flush` can tell a live server (lock held) from
// a stale file. Flush is SIGUSR1 to the pid written in it.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/expected.hpp"

namespace relayscope::server {

class PidFile {
 public:
  // Creates/locks the file and writes our pid; fails when another holds it.
  static Expected<PidFile> acquire(const std::string& path);
  PidFile(PidFile&& other) noexcept;
  PidFile& operator=(PidFile&&) = delete;
  ~PidFile();
  int fd() const { return fd_; }

 private:
  PidFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

// The pid of the server holding the lock on `path`, or an error saying that
// no server runs.
Expected<pid_t> running_server(const std::string& path);

}  // namespace relayscope::server
