// See maildir.hpp. File names follow the Maildir convention
// "<seconds>.M<micros>P<pid>Q<counter>.<host>" so readers (Dovecot, mutt,
// Python's mailbox) take them.
#include "server/maildir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace relayscope::server {

namespace fs = std::filesystem;

std::string maildir_unique_name(const std::string& hostname) {
  static std::atomic<std::uint64_t> counter{0};
  using namespace std::chrono;
  auto now = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  std::string host;
  for (char c : hostname) {
    host += (c == '/' || c == ':') ? '_' : c;
  }
  return fmt::format("{}.M{}P{}Q{}.{}", now / 1000000, now % 1000000, ::getpid(), ++counter, host);
}

Expected<std::string> deliver_to_maildir(const std::string& root, const LocalMailbox& box,
                                         std::string_view prefix, std::string_view message,
                                         const std::string& hostname, Batch& batch) {
  if (!safe_mailbox_name(box.user) || box.domain.empty() ||
      box.domain.find('/') != std::string::npos || box.domain.front() == '.') {
    return make_error("unsafe mailbox name " + box.address());
  }
  auto dir = fs::path(root) / box.domain / box.user;
  std::error_code ec;
  bool created = false;
  for (const char* sub : {"tmp", "new", "cur"}) {
    created = fs::create_directories(dir / sub, ec) || created;
    if (ec) {
      return make_error("cannot create " + (dir / sub).string() + ": " + ec.message());
    }
  }
  if (created) {
    // A new Maildir: its entries (and the domain's) must be durable too.
    batch.sync_dir_later(dir.string());
    batch.sync_dir_later(dir.parent_path().string());
    batch.sync_dir_later(root);
  }
  auto name = maildir_unique_name(hostname);
  auto tmp = (dir / "tmp" / name).string();
  auto final_path = (dir / "new" / name).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error("cannot create " + tmp + ": " + std::strerror(errno));
  }
  std::size_t total = prefix.size() + message.size(), done = 0;
  bool ok = true;
  while (ok && done < total) {
    iovec iov[2];
    int n = 0;
    if (done < prefix.size()) {
      iov[n++] = {const_cast<char*>(prefix.data()) + done, prefix.size() - done};
      iov[n++] = {const_cast<char*>(message.data()), message.size()};
    } else {
      auto off = done - prefix.size();
      iov[n++] = {const_cast<char*>(message.data()) + off, message.size() - off};
    }
    auto w = ::writev(fd, iov, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      ok = false;
    } else {
      done += static_cast<std::size_t>(w);
    }
  }
  if (ok && batch.fsync_enabled()) {
    ok = ::fdatasync(fd) == 0;
  }
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    auto err = std::string(std::strerror(errno));
    ::unlink(tmp.c_str());
    return make_error("cannot deliver to " + dir.string() + ": " + err);
  }
  batch.sync_dir_later((dir / "new").string());
  return final_path;
}

}  // namespace relayscope::server
