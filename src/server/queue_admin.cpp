// See queue_admin.hpp. Every change is rename(2) or unlink(2) of a whole
// file followed by an fsync of the directories touched: a crash leaves the
// message either where it was or where it went, never in between.
#include "server/queue_admin.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/durable_file.hpp"

namespace relayscope::server {

namespace fs = std::filesystem;

namespace {

std::string queue_of(const std::string& spool) {
  return spool + "/queue";
}
std::string hold_of(const std::string& spool) {
  return spool + "/hold";
}

Status sync_dir(const std::string& dir) {
  return sync_directory(dir, true);  // the one in common/durable_file
}

// A directory of the spool made by root (the tool) belongs to the spool's
// owner, the user the relay runs as, who must remove what is in it.
Status make_spool_dir(const std::string& dir, const std::string& spool) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error("cannot create " + dir + ": " + ec.message());
  struct stat st {};
  if (::stat(spool.c_str(), &st) == 0 && ::geteuid() == 0) {
    if (::chown(dir.c_str(), st.st_uid, st.st_gid) != 0) {
      return make_error("cannot give " + dir + " to the spool's owner: " + std::strerror(errno));
    }
  }
  return Ok{};
}

// Moves <from>/<id> and its .done record to <to>/, the message first (a
// .done without its message is removed at the relay's start).
Status move_message(const std::string& from, const std::string& to, const std::string& id,
                    const std::string& spool) {
  if (auto s = make_spool_dir(to, spool); !s) return s;
  auto src = from + "/" + id, dst = to + "/" + id;
  if (fs::exists(dst)) return make_error(dst + " exists already");
  if (::rename(src.c_str(), dst.c_str()) != 0) {
    return make_error("cannot move " + src + " to " + to + ": " + std::strerror(errno));
  }
  if (::rename((src + ".done").c_str(), (dst + ".done").c_str()) != 0 && errno != ENOENT) {
    return make_error("cannot move " + src + ".done: " + std::strerror(errno));
  }
  if (auto s = sync_dir(to); !s) return s;
  return sync_dir(from);
}

Status unlink_message(const std::string& dir, const std::string& spool, const std::string& id) {
  auto path = dir + "/" + id;
  if (::unlink(path.c_str()) != 0) {
    return make_error("cannot delete " + path + ": " + std::strerror(errno));
  }
  ::unlink((path + ".done").c_str());
  ::unlink((spool + "/state/" + id).c_str());
  return sync_dir(dir);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool valid_queue_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  return true;
}

Expected<QueuedFile> find_queued(const std::string& spool_dir, const std::string& id) {
  if (!valid_queue_id(id)) return make_error("'" + id + "' is not a queue id");
  if (!fs::is_directory(queue_of(spool_dir))) return make_error("no spool at " + spool_dir);
  for (bool held : {false, true}) {
    auto p = (held ? hold_of(spool_dir) : queue_of(spool_dir)) + "/" + id;
    if (fs::is_regular_file(p)) return QueuedFile{p, held};
  }
  return make_error("no message " + id + " in the queue");
}

Expected<std::string> show_queued(const std::string& spool_dir, const std::string& id) {
  auto f = find_queued(spool_dir, id);
  if (!f) return f.error();
  auto text = read_all(f->path);
  std::size_t body = 0;
  auto env = parse_envelope(text, body);
  if (!env) return make_error(f->path + ": " + env.error().message);
  auto done = parse_done(read_all(f->path + ".done"));
  std::ostringstream out;
  out << "*** ENVELOPE RECORDS " << f->path << " ***\n";
  out << "queue_id: " << env->id << "\n";
  out << "status: " << (f->held ? "held" : "queued") << "\n";
  out << "arrival: " << env->arrival << "\n";
  out << "message_size: " << (text.size() - body) << "\n";
  out << "client: " << env->client << "\n";
  out << "helo: " << env->helo << "\n";
  if (!env->auth_user.empty()) out << "sasl_username: " << env->auth_user << "\n";
  out << "sender: " << env->mail_from << "\n";
  for (const auto& r : env->recipients) {
    auto d = done.find(r);
    out << (d == done.end() ? "recipient: " : "done_recipient: ") << r;
    if (d != done.end()) out << " (" << d->second << ")";
    out << "\n";
  }
  out << "*** MESSAGE CONTENTS " << f->path << " ***\n";
  std::string message = text.substr(body);
  // CRLF as stored; shown with the terminal's line ends.
  std::string shown;
  shown.reserve(message.size());
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\r' && i + 1 < message.size() && message[i + 1] == '\n') continue;
    shown += message[i];
  }
  out << shown;
  if (!shown.empty() && shown.back() != '\n') out << "\n";
  out << "*** END OF MESSAGE " << f->path << " ***\n";
  return out.str();
}

Status delete_queued(const std::string& spool_dir, const std::string& id) {
  auto f = find_queued(spool_dir, id);
  if (!f) return f.error();
  return unlink_message(f->held ? hold_of(spool_dir) : queue_of(spool_dir), spool_dir, id);
}

Expected<std::vector<std::string>> delete_all_queued(const std::string& spool_dir) {
  if (!fs::is_directory(queue_of(spool_dir))) return make_error("no spool at " + spool_dir);
  std::vector<std::string> deleted;
  for (const auto& dir : {queue_of(spool_dir), hold_of(spool_dir)}) {
    std::error_code ec;
    std::vector<std::string> ids;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      auto name = e.path().filename().string();
      if (valid_queue_id(name)) ids.push_back(name);
    }
    for (const auto& id : ids) {
      auto s = unlink_message(dir, spool_dir, id);
      if (!s && fs::exists(dir + "/" + id)) return s.error();
      if (s) deleted.push_back(id);
    }
  }
  return deleted;
}

Status hold_queued(const std::string& spool_dir, const std::string& id) {
  auto f = find_queued(spool_dir, id);
  if (!f) return f.error();
  if (f->held) return make_error("message " + id + " is held already");
  return move_message(queue_of(spool_dir), hold_of(spool_dir), id, spool_dir);
}

Status release_held(const std::string& spool_dir, const std::string& id) {
  auto f = find_queued(spool_dir, id);
  if (!f) return f.error();
  if (!f->held) return make_error("message " + id + " is not held");
  auto marks = spool_dir + "/released";
  if (auto s = make_spool_dir(marks, spool_dir); !s) return s;
  int fd = ::open((marks + "/" + id).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  return move_message(hold_of(spool_dir), queue_of(spool_dir), id, spool_dir);
}

std::set<std::string> take_released(const std::string& spool_dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(spool_dir + "/released", ec)) {
    auto name = e.path().filename().string();
    if (valid_queue_id(name)) out.insert(name);
    std::error_code rm;
    fs::remove(e.path(), rm);
  }
  return out;
}

Expected<std::vector<SpoolEntry>> list_held(const std::string& spool_dir) {
  std::vector<SpoolEntry> out;
  std::error_code ec;
  std::vector<std::string> ids;
  for (const auto& e : fs::directory_iterator(hold_of(spool_dir), ec)) {
    auto name = e.path().filename().string();
    if (valid_queue_id(name)) ids.push_back(name);
  }
  std::sort(ids.begin(), ids.end());
  for (const auto& id : ids) {
    auto path = hold_of(spool_dir) + "/" + id;
    auto text = read_all(path);
    std::size_t body = 0;
    auto env = parse_envelope(text, body);
    if (!env) continue;  // being moved, or not ours: skipped in a listing
    SpoolEntry entry;
    entry.envelope = std::move(*env);
    entry.size = text.size() - body;
    entry.done = parse_done(read_all(path + ".done"));
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace relayscope::server
