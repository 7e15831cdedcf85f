// See spool_pool.hpp.
#include "server/spool_pool.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace relayscope::server {

namespace fs = std::filesystem;

SpoolFilePool::SpoolFilePool(std::string dir, std::size_t capacity)
    : dir_(std::move(dir)), capacity_(capacity) {}

Status SpoolFilePool::adopt() {
  std::error_code ec;
  std::vector<std::string> found;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    std::uint64_t n = 0;
    // Ours: digits that fit a 64-bit counter (std::stoull throws past it).
    bool ours = !name.empty() && name.size() <= 19 &&
                name.find_first_not_of("0123456789") == std::string::npos;
    if (ours) n = std::stoull(name);
    if (!ours || !it->is_regular_file() || found.size() >= capacity_) {
      fs::remove_all(it->path(), ec);
      ec.clear();
      continue;
    }
    found.push_back(it->path().string());
    next_ = std::max(next_, n + 1);
  }
  if (ec) return make_error("cannot read " + dir_ + ": " + ec.message());
  std::lock_guard lock(mutex_);
  free_ = std::move(found);
  return Ok{};
}

std::optional<std::string> SpoolFilePool::take() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) {
    ++stats_.missed;
    return std::nullopt;
  }
  ++stats_.reused;
  auto path = std::move(free_.back());
  free_.pop_back();
  return path;
}

std::optional<std::string> SpoolFilePool::give(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) > max_file_size) {
    return std::nullopt;
  }
  std::lock_guard lock(mutex_);
  if (free_.size() + settling_ >= capacity_) return std::nullopt;
  auto to = dir_ + "/" + std::to_string(next_++);
  if (::rename(path.c_str(), to.c_str()) != 0) return std::nullopt;
  ++settling_;
  ++stats_.kept;
  return to;
}

void SpoolFilePool::settled(std::string path, bool durable) {
  std::lock_guard lock(mutex_);
  if (settling_ > 0) --settling_;
  if (durable) free_.push_back(std::move(path));
}

SpoolFilePool::Stats SpoolFilePool::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::size_t SpoolFilePool::size() const {
  std::lock_guard lock(mutex_);
  return free_.size();
}

}  // namespace relayscope::server
