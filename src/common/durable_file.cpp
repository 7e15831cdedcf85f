// See durable_file.hpp.
#include "common/durable_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace relayscope {

namespace {
Error sys_error(const std::string& what) {
  return make_error(what + ": " + std::strerror(errno));
}
}  // namespace

Expected<DurableFile> DurableFile::create(std::string tmp_path, std::string final_path,
                                          const DurableOptions& options) {
  if (options.replace_stale_tmp) ::unlink(tmp_path.c_str());
  // O_EXCL: never write through a link or into another writer's file.
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, options.mode);
  if (fd < 0) return sys_error("cannot create " + tmp_path);
  DurableFile f(fd, std::move(tmp_path), std::move(final_path));
  struct stat old {};
  if (options.keep_existing_owner_and_mode && ::stat(f.final_.c_str(), &old) == 0) {
    f.full_sync_ = true;
    if (::fchmod(fd, old.st_mode & 07777) != 0) return sys_error("cannot chmod " + f.tmp_);
    if ((old.st_uid != ::geteuid() || old.st_gid != ::getegid()) &&
        ::fchown(fd, old.st_uid, old.st_gid) != 0) {
      return sys_error("cannot chown " + f.tmp_);
    }
  }
  return f;
}

DurableFile::DurableFile(DurableFile&& o) noexcept
    : fd_(o.fd_),
      tmp_(std::move(o.tmp_)),
      final_(std::move(o.final_)),
      size_(o.size_),
      done_(o.done_),
      published_(o.published_),
      full_sync_(o.full_sync_),
      old_size_(o.old_size_) {
  o.fd_ = -1;
  o.done_ = true;
}

DurableFile& DurableFile::operator=(DurableFile&& o) noexcept {
  if (this == &o) return *this;
  if (!done_) abandon();
  close();
  fd_ = o.fd_;
  tmp_ = std::move(o.tmp_);
  final_ = std::move(o.final_);
  size_ = o.size_;
  done_ = o.done_;
  published_ = o.published_;
  full_sync_ = o.full_sync_;
  old_size_ = o.old_size_;
  o.fd_ = -1;
  o.done_ = true;
  return *this;
}

DurableFile::~DurableFile() {
  if (!done_) abandon();
  close();
}

void DurableFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status DurableFile::append(std::string_view data) {
  while (!data.empty()) {
    auto n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("cannot write " + tmp_);
    data.remove_prefix(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
  return Ok{};
}

Status DurableFile::write_at(std::uint64_t offset, std::string_view data) {
  while (!data.empty()) {
    auto n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("cannot write " + tmp_);
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return Ok{};
}

Status DurableFile::write_whole(std::string_view head, std::string_view body) {
  if (size_ != 0) return make_error("cannot write " + tmp_ + " whole: written already");
  // From the start: the offset of a file just created or reused is 0.
  if (auto s = write_all(fd_, head, body, tmp_); !s) return s;
  size_ = head.size() + body.size();
  if (old_size_ > size_ && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    return sys_error("cannot cut " + tmp_);
  }
  return Ok{};
}

Expected<DurableFile> DurableFile::reuse(std::string existing_path, std::string final_path,
                                         Reuse how) {
  // O_TRUNC empties it (see the header for the two ways). O_NOFOLLOW: never
  // through a link.
  int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (how == Reuse::emptied ? O_TRUNC : 0);
  int fd = ::open(existing_path.c_str(), flags);
  if (fd < 0) return sys_error("cannot open " + existing_path);
  DurableFile f(fd, std::move(existing_path), std::move(final_path));
  if (how == Reuse::in_place) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return sys_error("cannot stat " + f.tmp_);
    f.old_size_ = static_cast<std::uint64_t>(st.st_size);
  }
  return f;
}

Status DurableFile::sync() {
  if (fd_ < 0) return make_error("cannot fsync " + tmp_ + ": not open");
  int r = full_sync_ ? ::fsync(fd_) : ::fdatasync(fd_);
  if (r != 0) {
    auto e = sys_error("cannot fsync " + tmp_);
    abandon();
    return e;
  }
  return Ok{};
}

Status DurableFile::publish() {
  if (fd_ < 0) return make_error("cannot rename " + tmp_ + ": not open");
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    auto e = sys_error("cannot close " + tmp_);
    abandon();
    return e;
  }
  return rename_into_place();
}

Status DurableFile::publish_open() {
  if (fd_ < 0) return make_error("cannot rename " + tmp_ + ": not open");
  return rename_into_place();
}

Status DurableFile::rename_into_place() {
  if (::rename(tmp_.c_str(), final_.c_str()) != 0) {
    auto e = sys_error("cannot rename " + tmp_);
    abandon();
    return e;
  }
  done_ = true;
  published_ = true;
  return Ok{};
}

Status DurableFile::finish(bool sync) {
  // The data must be on disk before the name points at it.
  if (sync) {
    if (auto s = this->sync(); !s) return s;
  }
  return publish();
}

void DurableFile::abandon() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!done_) ::unlink(tmp_.c_str());
  done_ = true;
}

Status write_all(int fd, std::string_view a, std::string_view b, const std::string& what) {
  iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  std::size_t total = a.size() + b.size(), done = 0;
  while (done < total) {
    // Advance the iovecs past what was written.
    iovec cur[2];
    int n = 0;
    std::size_t skip = done;
    for (auto& v : iov) {
      if (skip >= v.iov_len) {
        skip -= v.iov_len;
        continue;
      }
      cur[n].iov_base = static_cast<char*>(v.iov_base) + skip;
      cur[n].iov_len = v.iov_len - skip;
      skip = 0;
      ++n;
    }
    auto w = ::writev(fd, cur, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return make_error("cannot write " + what + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(w);
  }
  return Ok{};
}

Status sync_directory(const std::string& dir, bool sync) {
  if (!sync) return Ok{};
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open " + dir);
  if (::fsync(fd) != 0) {
    auto e = sys_error("cannot fsync " + dir);
    ::close(fd);
    return e;
  }
  ::close(fd);
  return Ok{};
}

std::string parent_directory(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

Status write_durably(const std::string& tmp_path, const std::string& final_path,
                     std::string_view data, bool sync, const DurableOptions& options) {
  auto f = DurableFile::create(tmp_path, final_path, options);
  if (!f) return f.error();
  if (auto s = f->append(data); !s) return s;
  if (auto s = f->finish(sync); !s) return s;
  return sync_directory(parent_directory(final_path), sync);
}

}  // namespace relayscope
