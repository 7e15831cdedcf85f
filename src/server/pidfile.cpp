// See pidfile.hpp.
#include "server/pidfile.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace relayscope::server {

namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[64];
  ::lseek(fd, 0, SEEK_SET);
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0 || out.size() > 64) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

Expected<PidFile> PidFile::acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("cannot open the pid file " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    auto pid = read_all(fd);
    ::close(fd);
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return make_error("another relayscope relay runs on this spool (pid " + pid + ", " + path +
                      ")");
  }
  auto text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    ::close(fd);
    return make_error("cannot write the pid file " + path);
  }
  return PidFile(path, fd);
}

PidFile::PidFile(PidFile&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

PidFile::~PidFile() {
  if (fd_ >= 0) {
    ::unlink(path_.c_str());
    ::close(fd_);
  }
}

Expected<pid_t> running_server(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("no relayscope relay runs on this spool (no " + path + ")");
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::close(fd);
    return make_error("no relayscope relay runs on this spool (" + path + " is stale)");
  }
  auto text = read_all(fd);
  ::close(fd);
  char* end = nullptr;
  long pid = std::strtol(text.c_str(), &end, 10);
  if (pid <= 1) return make_error("the pid file " + path + " holds no pid");
  return static_cast<pid_t>(pid);
}

}  // namespace relayscope::server
