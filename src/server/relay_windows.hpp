// POP-before-SMTP windows (issue 14, 5.): a POP/IMAP server's post-login hook
// runs `relayscope relay-window grant IP [--user NAME]`, which writes one file
// per (address, user) into the window directory; the relay reads them and
// lets that address relay (on mx listeners) until the window expires.
//
// Durable and simple: a window is a small text file written with temp file +
// fsync + rename + fsync of the directory, so a relay restart keeps it and a
// reader never sees half a file. Granting again replaces it (a new expiry).
// Expiry is by the time in the file (wall clock, seconds since the epoch),
// so expired windows close without any signal or restart.
//
// The relay's reader rescans the directory when its modification time
// changes (a rename into it changes it) and at least every rescan_interval,
// so new windows are seen without a signal; it reads at most max_windows
// files of at most 512 bytes each. A directory that anyone may write is
// refused: whoever writes there opens the relay.
#pragma once

#include <chrono>
#include <cstddef>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.hpp"
#include "common/expected.hpp"

namespace relayscope::server {

using WallClock = std::chrono::system_clock;

struct RelayWindow {
  IpAddress client;
  std::string user;  // empty: granted without --user (no sender binding)
  WallClock::time_point granted;
  WallClock::time_point expires;
};

// The file name of a window: the address (':' as '_') and the user.
std::string window_file_name(const IpAddress& client, std::string_view user);
// The file's contents, and back (strict: a file that does not parse is ignored).
std::string format_window(const RelayWindow& w);
Expected<RelayWindow> parse_window(std::string_view text);

// Writes (or replaces) the window of `client` (and `user`) ending at now +
// `length`. Creates the directory (mode 0770) when missing; refuses one that
// others may write.
Expected<RelayWindow> grant_window(const std::string& dir, const IpAddress& client,
                                   const std::string& user, std::chrono::milliseconds length,
                                   WallClock::time_point now);
// The windows open at `now`, sorted by address then user (for `list`).
Expected<std::vector<RelayWindow>> open_windows(const std::string& dir, WallClock::time_point now);
// Removes the files of windows that ended before `now`; returns how many.
std::size_t remove_expired_windows(const std::string& dir, WallClock::time_point now);

// The relay's view: cached, refreshed as the header says. Thread-safe.
class RelayWindows {
 public:
  static constexpr std::size_t default_max_windows = 100000;

  explicit RelayWindows(std::string dir, std::size_t max_windows = default_max_windows,
                        std::chrono::seconds rescan_interval = std::chrono::seconds(30));

  // The open windows of `client` at `now` (several when several users logged
  // in from one address). Empty: no window. Rescans first when needed.
  std::vector<RelayWindow> lookup(const IpAddress& client, WallClock::time_point now);
  // The last rescan's problem (a directory others may write, too many
  // files), empty when none: for the relay's log.
  std::string last_error() const;

 private:
  void refresh(WallClock::time_point now);

  std::string dir_;
  std::size_t max_windows_;
  std::chrono::seconds rescan_interval_;
  mutable std::mutex mutex_;
  std::vector<RelayWindow> windows_;
  std::optional<std::timespec> seen_mtime_;
  WallClock::time_point last_scan_{};
  bool scanned_ = false;
  std::string error_;
};

}  // namespace relayscope::server
