// The spool read back (see spool.hpp): recovery at start (tmp/ leftovers
// deleted, unreadable queue files moved to corrupt/), the read-only listing
// for `relayscope queue`, and whole-message reads. Envelopes only: recovery
// and listing read the bodies of small messages alone (for their check).
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/spool.hpp"
#include "server/spool_check.hpp"

namespace relayscope::server {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_envelope = 4 * 1024 * 1024;

Expected<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error("cannot read " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The envelope part of a spool file (up to and with its empty line, or the
// whole file when shorter), and the file's size: recovery and listing never
// read the bodies of big messages. A file of up to `whole_up_to` bytes is
// read whole (its check is verified).
Expected<std::pair<std::string, std::uint64_t>> read_head(const std::string& path,
                                                          std::uint64_t whole_up_to) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error("cannot read " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return make_error("cannot stat " + path);
  }
  std::string head;
  char buf[16384];
  const bool whole = static_cast<std::uint64_t>(st.st_size) <= whole_up_to;
  while (whole ? head.size() < static_cast<std::uint64_t>(st.st_size)
               : head.size() < max_envelope && head.find("\n\n") == std::string::npos) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    head.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto end = head.find("\n\n");
  if (!whole && end != std::string::npos) {
    head.resize(end + 2);
  }
  return std::make_pair(std::move(head), static_cast<std::uint64_t>(st.st_size));
}

std::map<std::string, std::string> read_done(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    return {};
  }
  return parse_done(*text);
}

RetryState read_state(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    return {};
  }
  return parse_state(*text);
}

bool is_message_name(const std::string& name) {
  return !name.empty() && name.find('.') == std::string::npos;
}

// Reads queue/ (and state/). Files that do not parse are returned in
// `corrupt` and left where they are (list) or moved aside (recover).
Expected<std::vector<SpoolEntry>> read_queue(const std::string& dir,
                                             std::vector<std::string>* corrupt) {
  auto queue = dir + "/queue";
  std::vector<SpoolEntry> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(queue, ec)) {
    auto name = e.path().filename().string();
    if (!is_message_name(name)) {
      continue;
    }
    // Small enough to have been written over a spent file in place: read
    // whole, for its check (spool_check.hpp).
    auto head = read_head(e.path().string(), SpoolFilePool::max_file_size);
    if (!head) {
      continue;  // raced with a removal
    }
    std::size_t body = 0;
    auto env = parse_envelope_head(head->first, head->second, body);
    bool intact = env && env->id == name;
    if (intact && !env->check.empty() && head->first.size() == head->second) {
      intact = spool_check(std::string_view(head->first).substr(body)) == env->check;
    }
    if (!intact) {
      if (corrupt) {
        corrupt->push_back(name);
      }
      continue;
    }
    SpoolEntry entry;
    entry.envelope = std::move(*env);
    entry.size = head->second - body;
    entry.done = read_done(e.path().string() + ".done");
    entry.state = read_state(dir + "/state/" + name);
    out.push_back(std::move(entry));
  }
  if (ec) {
    return make_error("cannot read " + queue + ": " + ec.message());
  }
  std::sort(out.begin(), out.end(), [](const SpoolEntry& a, const SpoolEntry& b) {
    return a.envelope.arrival != b.envelope.arrival ? a.envelope.arrival < b.envelope.arrival
                                                    : a.envelope.id < b.envelope.id;
  });
  return out;
}

}  // namespace

Expected<std::vector<SpoolEntry>> Spool::recover(std::size_t& removed_tmp) {
  auto r = recover_all();
  if (!r) {
    return r.error();
  }
  removed_tmp = r->removed_tmp;
  for (const auto& id : r->corrupt) {
    spdlog::error(
        "spool: {} does not parse or does not match its check: moved to {} "
        "(never delivered)",
        id, corrupt_dir());
  }
  return std::move(r->entries);
}

Expected<Spool::Recovery> Spool::recover_all() {
  Recovery r;
  std::error_code ec;
  // Never answered 250 (the rename into queue/ comes before it): delete.
  for (const auto& e : fs::directory_iterator(tmp_dir(), ec)) {
    std::error_code rm;
    if (fs::remove(e.path(), rm)) {
      ++r.removed_tmp;
    }
  }
  if (ec) {
    return make_error("cannot read " + tmp_dir() + ": " + ec.message());
  }
  auto entries = read_queue(dir_, &r.corrupt);
  if (!entries) {
    return entries.error();
  }
  r.entries = std::move(*entries);
  // A file that does not parse was never written by store() (which renames
  // only complete, fsync'd files): keep it for a human, never deliver it.
  if (!r.corrupt.empty()) {
    fs::create_directories(corrupt_dir(), ec);
    if (ec) {
      return make_error("cannot create " + corrupt_dir() + ": " + ec.message());
    }
    for (const auto& id : r.corrupt) {
      fs::rename(queue_dir() + "/" + id, corrupt_dir() + "/" + id, ec);
      if (ec) {
        return make_error("cannot move " + id + " to " + corrupt_dir() + ": " + ec.message());
      }
      ::unlink((queue_dir() + "/" + id + ".done").c_str());
    }
    if (auto s = sync_dir(queue_dir(), worker_.fsync_enabled()); !s) {
      return s.error();
    }
  }
  // Leftovers of finished messages: a .done or state file without its message.
  for (const auto& e : fs::directory_iterator(queue_dir(), ec)) {
    auto name = e.path().filename().string();
    auto dot = name.find('.');
    if (dot != std::string::npos && !fs::exists(queue_dir() + "/" + name.substr(0, dot))) {
      std::error_code rm;
      fs::remove(e.path(), rm);
    }
  }
  for (const auto& e : fs::directory_iterator(state_dir(), ec)) {
    if (!fs::exists(queue_dir() + "/" + e.path().filename().string())) {
      std::error_code rm;
      fs::remove(e.path(), rm);
    }
  }
  return r;
}

Expected<std::vector<SpoolEntry>> Spool::list(const std::string& dir) {
  if (!fs::is_directory(dir + "/queue")) {
    return make_error("no spool at " + dir);
  }
  return read_queue(dir, nullptr);
}

Expected<std::string> Spool::read_message_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    return text.error();
  }
  std::size_t body = 0;
  auto env = parse_envelope(*text, body);
  if (!env) {
    return env.error();
  }
  return text->substr(body);
}

Expected<std::string> Spool::read_message(const std::string& id) const {
  return read_message_file(queue_dir() + "/" + id);
}

}  // namespace relayscope::server
