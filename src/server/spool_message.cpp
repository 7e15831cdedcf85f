// See spool_message.hpp.
#include "server/spool_message.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "server/spool_format.hpp"

namespace relayscope::server {

namespace {
// As much of the file's start as an envelope may take (spool.cpp's limit).
constexpr std::size_t max_envelope = 4 * 1024 * 1024;
// A file up to this size is read whole when opened.
constexpr std::size_t whole_file_max = 64 * 1024;
}  // namespace

Expected<std::shared_ptr<const SpoolMessage>> SpoolMessage::open(const std::string& path) {
  std::shared_ptr<SpoolMessage> m(new SpoolMessage());
  m->path_ = path;
  m->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m->fd_ < 0) return make_error("cannot read " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(m->fd_, &st) != 0) return make_error("cannot stat " + path);
  // The envelope, read in growing pieces until its empty line. A small file
  // (most mail) comes whole in the first read and stays in memory: its
  // courier then reads no piece off the network thread.
  std::string head;
  std::size_t want =
      std::clamp<std::size_t>(static_cast<std::size_t>(st.st_size), 4096, whole_file_max);
  while (head.find("\n\n") == std::string::npos && head.size() < max_envelope) {
    std::string piece(want, '\0');
    auto n = ::pread(m->fd_, piece.data(), piece.size(), static_cast<off_t>(head.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    head.append(piece.data(), static_cast<std::size_t>(n));
    want = std::min(want * 2, max_envelope);
  }
  auto end = head.find("\n\n");
  const bool whole = end != std::string::npos &&
                     head.size() == static_cast<std::size_t>(st.st_size) &&
                     head.size() <= whole_file_max;
  std::string text;
  if (whole) text = head.substr(end + 2);
  if (end != std::string::npos) head.resize(end + 2);
  std::size_t body = 0;
  auto env = parse_envelope_head(head, static_cast<std::uint64_t>(st.st_size), body);
  if (!env) return make_error(path + ": " + env.error().message);
  m->body_ = body;
  m->size_ = static_cast<std::uint64_t>(st.st_size) - body;
  if (whole && text.size() == m->size_) {
    m->text_ = std::move(text);
    ::close(m->fd_);
    m->fd_ = -1;
  }
  return std::shared_ptr<const SpoolMessage>(std::move(m));
}

std::shared_ptr<const SpoolMessage> SpoolMessage::from_text(std::string text) {
  std::shared_ptr<SpoolMessage> m(new SpoolMessage());
  m->size_ = text.size();
  m->text_ = std::move(text);
  return m;
}

SpoolMessage::~SpoolMessage() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<std::string> SpoolMessage::read(std::uint64_t offset, std::size_t max) const {
  if (offset >= size_) return std::string();
  auto n = static_cast<std::size_t>(std::min<std::uint64_t>(max, size_ - offset));
  if (fd_ < 0) return text_.substr(static_cast<std::size_t>(offset), n);
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    auto r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(body_ + offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return make_error("cannot read " + path_ + ": " + std::strerror(errno));
    if (r == 0) return make_error("cannot read " + path_ + ": cut short while in use");
    got += static_cast<std::size_t>(r);
  }
  return out;
}

Status SpoolMessage::for_each_piece(const std::function<Status(std::string_view)>& sink) const {
  for (std::uint64_t at = 0; at < size_;) {
    auto piece = read(at, piece_size);
    if (!piece) return piece.error();
    if (auto s = sink(*piece); !s) return s;
    at += piece->size();
  }
  return Ok{};
}

}  // namespace relayscope::server
