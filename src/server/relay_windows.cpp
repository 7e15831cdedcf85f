// See relay_windows.hpp. A window file:
//   relayscope-window 1
//   client 127.0.0.3
//   user alice            (absent when granted without --user)
//   granted 1764480000
//   expires 1764480600
#include "server/relay_windows.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/durable_file.hpp"
#include "server/users_file.hpp"

namespace relayscope::server {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_window_file = 512;
constexpr std::string_view suffix = ".window";

long long epoch_seconds(WallClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::optional<long long> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

Status check_dir_mode(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return make_error("window directory " + dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return make_error("window directory " + dir + " is not a directory");
  if (st.st_mode & S_IWOTH) {
    return make_error("window directory " + dir +
                      " may be written by anyone (whoever writes there opens the relay): "
                      "chmod o-w it");
  }
  return Ok{};
}

// The one durable write (common/durable_file.hpp); group-readable, for a
// relay that has dropped root into the directory's group.
Status write_atomically(const std::string& dir, const std::string& name, const std::string& data) {
  DurableOptions o;
  o.mode = 0640;
  o.replace_stale_tmp = true;
  return write_durably(dir + "/." + name + ".tmp." + std::to_string(::getpid()), dir + "/" + name,
                       data, true, o);
}

std::optional<std::string> read_small(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  char buf[max_window_file + 1];
  std::size_t got = 0;
  while (got < sizeof buf) {
    auto n = ::read(fd, buf + got, sizeof buf - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got > max_window_file) return std::nullopt;
  return std::string(buf, got);
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// Reads every window file (at most `max`); `open_at` drops those ended by
// then. Sets `truncated` when there were more files than `max`.
std::vector<RelayWindow> scan(const std::string& dir, std::size_t max, bool& truncated) {
  std::vector<RelayWindow> out;
  truncated = false;
  std::error_code ec;
  std::size_t files = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.empty() || name.front() == '.' || !ends_with(name, suffix)) continue;
    if (++files > max) {
      truncated = true;
      break;
    }
    auto text = read_small(it->path().string());
    if (!text) continue;
    auto w = parse_window(*text);
    if (w) out.push_back(std::move(*w));
  }
  return out;
}

}  // namespace

std::string window_file_name(const IpAddress& client, std::string_view user) {
  std::string name = client.to_string();
  std::replace(name.begin(), name.end(), ':', '_');
  if (!user.empty()) {
    name += '+';
    static const char hex[] = "0123456789abcdef";
    for (unsigned char c : user) {
      if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '@') {
        name += static_cast<char>(c);
      } else {
        name += '%';
        name += hex[c >> 4];
        name += hex[c & 15];
      }
    }
  }
  return name + std::string(suffix);
}

std::string format_window(const RelayWindow& w) {
  std::string out = "relayscope-window 1\nclient " + w.client.to_string() + "\n";
  if (!w.user.empty()) out += "user " + w.user + "\n";
  out += "granted " + std::to_string(epoch_seconds(w.granted)) + "\n";
  out += "expires " + std::to_string(epoch_seconds(w.expires)) + "\n";
  return out;
}

Expected<RelayWindow> parse_window(std::string_view text) {
  if (text.size() > max_window_file) return make_error("window file too big");
  RelayWindow w;
  bool magic = false, client = false, granted = false, expires = false;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return make_error("window file: last line unterminated");
    auto line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    auto sp = line.find(' ');
    if (sp == std::string_view::npos) return make_error("window file: bad line");
    auto key = line.substr(0, sp);
    auto value = line.substr(sp + 1);
    if (!magic) {
      if (key != "relayscope-window" || value != "1") return make_error("not a window file");
      magic = true;
    } else if (key == "client" && !client) {
      auto ip = IpAddress::parse(value);
      if (!ip) return make_error("window file: bad client address");
      w.client = *ip;
      client = true;
    } else if (key == "user" && w.user.empty()) {
      if (!valid_user_name(value)) return make_error("window file: bad user");
      w.user = std::string(value);
    } else if ((key == "granted" && !granted) || (key == "expires" && !expires)) {
      auto n = parse_number(value);
      if (!n) return make_error("window file: bad time");
      auto t = WallClock::time_point(std::chrono::seconds(*n));
      (key == "granted" ? w.granted : w.expires) = t;
      (key == "granted" ? granted : expires) = true;
    } else {
      return make_error("window file: unexpected line");
    }
  }
  if (!magic || !client || !granted || !expires) return make_error("window file: incomplete");
  return w;
}

Expected<RelayWindow> grant_window(const std::string& dir, const IpAddress& client,
                                   const std::string& user, std::chrono::milliseconds length,
                                   WallClock::time_point now) {
  if (!user.empty() && !valid_user_name(user)) return make_error("bad user name '" + user + "'");
  if (length.count() <= 0) return make_error("the window length must be positive");
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return make_error("cannot create window directory " + dir + ": " + ec.message());
    ::chmod(dir.c_str(), 0770);
  }
  if (auto s = check_dir_mode(dir); !s) return s.error();
  RelayWindow w;
  w.client = client;
  w.user = user;
  w.granted = std::chrono::time_point_cast<std::chrono::seconds>(now);
  // Rounded up to whole seconds: a window is never shorter than configured.
  w.expires = w.granted + std::chrono::ceil<std::chrono::seconds>(length);
  if (auto s = write_atomically(dir, window_file_name(client, user), format_window(w)); !s) {
    return s.error();
  }
  return w;
}

Expected<std::vector<RelayWindow>> open_windows(const std::string& dir, WallClock::time_point now) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return std::vector<RelayWindow>();  // nothing granted yet
  if (auto s = check_dir_mode(dir); !s) return s.error();
  bool truncated = false;
  auto all = scan(dir, RelayWindows::default_max_windows, truncated);
  std::vector<RelayWindow> out;
  for (auto& w : all) {
    if (w.expires > now) out.push_back(std::move(w));
  }
  std::sort(out.begin(), out.end(), [](const RelayWindow& a, const RelayWindow& b) {
    return a.client != b.client ? a.client < b.client : a.user < b.user;
  });
  return out;
}

std::size_t remove_expired_windows(const std::string& dir, WallClock::time_point now) {
  std::size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.empty() || name.front() == '.' || !ends_with(name, suffix)) continue;
    auto text = read_small(it->path().string());
    if (!text) continue;
    auto w = parse_window(*text);
    if (w && w->expires <= now && ::unlink(it->path().c_str()) == 0) ++removed;
  }
  return removed;
}

RelayWindows::RelayWindows(std::string dir, std::size_t max_windows,
                           std::chrono::seconds rescan_interval)
    : dir_(std::move(dir)), max_windows_(max_windows), rescan_interval_(rescan_interval) {}

void RelayWindows::refresh(WallClock::time_point now) {
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0) {
    windows_.clear();  // no directory yet: nothing granted
    error_.clear();
    seen_mtime_.reset();
    return;
  }
  bool same = seen_mtime_ && seen_mtime_->tv_sec == st.st_mtim.tv_sec &&
              seen_mtime_->tv_nsec == st.st_mtim.tv_nsec;
  if (scanned_ && same && now - last_scan_ < rescan_interval_) return;
  if (auto s = check_dir_mode(dir_); !s) {
    windows_.clear();
    error_ = s.error().message;
    return;
  }
  bool truncated = false;
  auto all = scan(dir_, max_windows_, truncated);
  windows_.clear();
  for (auto& w : all) {
    if (w.expires > now) windows_.push_back(std::move(w));
  }
  error_ = truncated ? "window directory " + dir_ + " holds more than " +
                           std::to_string(max_windows_) + " windows; read that many"
                     : "";
  scanned_ = true;
  last_scan_ = now;
  // A change within the file system's timestamp granularity of this scan
  // could leave the time unchanged: a recent time is not trusted as "seen".
  auto mtime = WallClock::time_point(std::chrono::seconds(st.st_mtim.tv_sec));
  if (WallClock::now() - mtime < std::chrono::seconds(2)) {
    seen_mtime_.reset();
  } else {
    seen_mtime_ = st.st_mtim;
  }
}

std::vector<RelayWindow> RelayWindows::lookup(const IpAddress& client, WallClock::time_point now) {
  std::lock_guard lock(mutex_);
  refresh(now);
  std::vector<RelayWindow> out;
  for (const auto& w : windows_) {
    if (w.client == client && w.expires > now) out.push_back(w);
  }
  return out;
}

std::string RelayWindows::last_error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

}  // namespace relayscope::server
