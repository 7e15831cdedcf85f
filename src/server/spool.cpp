// See spool.hpp. File layout of queue/<id>:
//   "relayscope-spool 1\n" then "key: value\n" lines (id, arrival, client,
//   helo, auth, from, rcpt...), an empty line, then the message as received.
// queue/<id>.done: "recipient\tresult\n" lines, appended and fsync'd.
#include "server/spool.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/durable_file.hpp"

namespace relayscope::server {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_envelope = 4 * 1024 * 1024;

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
// read message bodies.
Expected<std::pair<std::string, std::uint64_t>> read_head(const std::string& path) {
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
  while (head.size() < max_envelope && head.find("\n\n") == std::string::npos) {
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
  if (end != std::string::npos) {
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
    auto head = read_head(e.path().string());
    if (!head) {
      continue;  // raced with a removal
    }
    std::size_t body = 0;
    auto env = parse_envelope_head(head->first, head->second, body);
    if (!env || env->id != name) {
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

Expected<std::unique_ptr<Spool>> Spool::open(const std::string& dir, Worker& worker,
                                             GroupCommit::DataSync data_sync) {
  std::error_code ec;
  for (auto d : {dir, dir + "/tmp", dir + "/queue", dir + "/state"}) {
    fs::create_directories(d, ec);
    if (ec) {
      return make_error("cannot create " + d + ": " + ec.message());
    }
    if (::access(d.c_str(), W_OK) != 0) {
      return make_error("cannot write in " + d);
    }
  }
  // The directories themselves must survive a power cut, or so would not
  // the messages in them: their entries are fsync'd once, at start.
  auto parent = fs::absolute(fs::path(dir)).parent_path().string();
  for (const auto& d : {dir, parent}) {
    if (auto s = sync_dir(d, worker.fsync_enabled()); !s) {
      return s.error();
    }
  }
  return std::unique_ptr<Spool>(new Spool(dir, worker, data_sync));
}

Spool::Spool(std::string dir, Worker& worker, GroupCommit::DataSync data_sync)
    : dir_(std::move(dir)), worker_(worker) {
  GroupCommit::Settings g;
  g.dir = queue_dir();
  g.fsync = worker.fsync_enabled();
  g.data_sync = data_sync;
  group_ = std::make_unique<GroupCommit>(std::move(g));
}

Spool::~Spool() {
  auto s = group_->stats();
  group_.reset();  // finishes what was handed in
  if (s.rounds == 0) return;
  spdlog::info(
      "spool: group commit made {} changes durable in {} rounds ({:.1f} a round, at most {}): "
      "{} fdatasync, {} syncfs, {} fsync of queue/, {} failed",
      s.items, s.rounds, static_cast<double>(s.items) / static_cast<double>(s.rounds),
      s.largest_round, s.file_syncs, s.filesystem_syncs, s.dir_syncs, s.failed);
}

Expected<std::vector<SpoolEntry>> Spool::recover(std::size_t& removed_tmp) {
  auto r = recover_all();
  if (!r) {
    return r.error();
  }
  removed_tmp = r->removed_tmp;
  for (const auto& id : r->corrupt) {
    spdlog::error("spool: {} does not parse: moved to {} (never delivered)", id, corrupt_dir());
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

std::string Spool::new_id() {
  using namespace std::chrono;
  auto now = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  // Seconds, microseconds and a counter: unique for this (single) server.
  return fmt::format("{:X}{:05X}{:04X}", now / 1000000, now % 1000000, ++counter_ & 0xffff);
}

asio::awaitable<Expected<std::string>> Spool::store(SpoolEnvelope envelope, std::string message) {
  if (envelope.id.empty()) {
    envelope.id = new_id();
  }
  auto tmp = tmp_dir() + "/" + envelope.id;
  auto final_path = queue_dir() + "/" + envelope.id;
  auto queue = queue_dir();
  auto head = format_envelope(envelope, message.size());
  // The job is a named local and the result is co_returned from one: GCC 12
  // double-destroys temporaries of "co_return co_await f(lambda)".
  auto job = [tmp, final_path, queue, head = std::move(head), message = std::move(message),
              id = envelope.id](Batch& b) -> Expected<std::string> {
    auto file = DurableFile::create(tmp, final_path);
    if (!file) return file.error();
    auto s = file->append(head);
    if (s) s = file->append(message);
    if (s) s = file->finish(b.fsync_enabled());
    if (!s) return s.error();
    // The rename is durable once queue/ is fsync'd: the batch does that
    // before anyone is told (group commit), and fails the job if it cannot.
    b.sync_dir_later(queue);
    return id;
  };
  auto stored = co_await worker_.run<std::string>(std::move(job));
  if (!stored) {
    // When the rename happened but queue/ could not be fsync'd, the client
    // is told 451 and will send again: take our copy away (as Postfix does)
    // so a restart does not deliver it a second time.
    auto undo = [final_path, queue](Batch& b) -> Status {
      if (::unlink(final_path.c_str()) == 0) {
        b.sync_dir_later(queue);
      }
      return Ok{};
    };
    auto undone = co_await worker_.run<Ok>(std::move(undo));
    (void)undone;
  }
  co_return stored;
}

// A message being streamed into tmp/: only ever touched by one worker job
// at a time (its session awaits each step before the next).
struct Spool::Incoming {
  explicit Incoming(DurableFile f) : file(std::move(f)) {}
  DurableFile file;
  std::string id;
  std::uint64_t size_at = 0;     // where the size's digits start
  std::uint64_t body_start = 0;  // where the message starts
};

namespace {
// The size is not known before the end: written as fixed-width digits and
// overwritten in place at commit (parse_envelope reads leading zeros).
constexpr std::size_t size_digits = 20;
}  // namespace

asio::awaitable<Expected<std::shared_ptr<Spool::Incoming>>> Spool::begin(SpoolEnvelope envelope,
                                                                         std::string first) {
  if (envelope.id.empty()) envelope.id = new_id();
  auto head = format_envelope(envelope, 0);
  auto at = head.find("\nsize: 0\n");
  head.replace(at + 7, 1, std::string(size_digits, '0'));
  auto tmp = tmp_dir() + "/" + envelope.id;
  auto final_path = queue_dir() + "/" + envelope.id;
  auto job = [tmp, final_path, head = std::move(head), first = std::move(first), id = envelope.id,
              at](Batch&) -> Expected<std::shared_ptr<Incoming>> {
    auto file = DurableFile::create(tmp, final_path);
    if (!file) return file.error();
    auto in = std::make_shared<Incoming>(std::move(*file));
    in->id = id;
    in->size_at = at + 7;
    in->body_start = head.size();
    auto s = in->file.append(head);
    if (s) s = in->file.append(first);
    if (!s) return s.error();
    return in;
  };
  auto r = co_await worker_.run<std::shared_ptr<Incoming>>(std::move(job));
  co_return r;
}

asio::awaitable<Status> Spool::append(std::shared_ptr<Incoming> message, std::string chunk) {
  auto job = [message, chunk = std::move(chunk)](Batch&) -> Status {
    return message->file.append(chunk);
  };
  auto r = co_await worker_.run<Ok>(std::move(job));
  co_return r;
}

asio::awaitable<Expected<std::string>> Spool::commit(std::shared_ptr<Incoming> message) {
  // The size, known now, is the file's last write (on the sync thread).
  auto last_write = [message]() -> Status {
    auto digits = std::to_string(message->file.size() - message->body_start);
    digits.insert(0, size_digits - digits.size(), '0');
    return message->file.write_at(message->size_at, digits);
  };
  GroupCommit::Item item{std::shared_ptr<DurableFile>(message, &message->file), last_write};
  Status durable = co_await group_->commit(std::move(item));
  if (!durable) {
    // Whatever is left of it goes (the group commit already took away a
    // name whose directory sync failed); the client is told 451.
    co_await discard(message);
    co_return durable.error();
  }
  co_return message->id;
}

asio::awaitable<void> Spool::discard(std::shared_ptr<Incoming> message) {
  auto job = [message](Batch&) -> Status {
    message->file.abandon();
    return Ok{};
  };
  auto r = co_await worker_.run<Ok>(std::move(job));
  (void)r;
}

asio::awaitable<Status> Spool::mark_done(std::string id,
                                         std::vector<std::pair<std::string, std::string>> done) {
  auto path = queue_dir() + "/" + id + ".done";
  auto queue = queue_dir();
  std::string text;
  for (const auto& [r, result] : done) {
    std::string clean = result;
    for (auto& ch : clean) {
      if (ch == '\n' || ch == '\r' || ch == '\t') {
        ch = ' ';
      }
    }
    text += r + "\t" + clean + "\n";
  }
  auto job = [path, queue, text = std::move(text)](Batch& b) -> Status {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      return make_error("cannot open " + path + ": " + std::strerror(errno));
    }
    // A line cut by a crash is ended first, so this record starts a line.
    std::string lead;
    struct stat st {};
    bool created = ::fstat(fd, &st) == 0 && st.st_size == 0;
    if (st.st_size > 0) {
      char last = '\n';
      if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
        lead = "\n";
      }
    }
    auto s = write_all(fd, lead, text, path);
    if (s && b.fsync_enabled() && ::fdatasync(fd) != 0) {
      s = make_error("cannot fsync " + path + ": " + std::strerror(errno));
    }
    ::close(fd);
    if (s && created) {
      b.sync_dir_later(queue);
    }
    return s;
  };
  auto r = co_await worker_.run<Ok>(std::move(job));
  co_return r;
}

asio::awaitable<Status> Spool::remove(std::string id) {
  auto path = queue_dir() + "/" + id;
  auto state = state_dir() + "/" + id;
  // The unlinks run on the sync thread, and the round's one fsync of queue/
  // makes them durable along with the messages accepted meanwhile.
  auto unlink = [path, state]() -> Status {
    // The message first: a .done file left alone is harmless (removed at start).
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return make_error("cannot remove " + path + ": " + std::strerror(errno));
    }
    ::unlink((path + ".done").c_str());
    ::unlink(state.c_str());
    return Ok{};
  };
  GroupCommit::Item item{nullptr, unlink};
  Status removed = co_await group_->commit(std::move(item));
  co_return removed;
}

asio::awaitable<Status> Spool::write_state(std::string id, RetryState state) {
  auto path = state_dir() + "/" + id;
  auto job = [path, text = format_state(state)](Batch&) -> Status {
    auto tmp = path + ".new";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      return make_error("cannot create " + tmp + ": " + std::strerror(errno));
    }
    auto s = write_all(fd, text, {}, tmp);
    ::close(fd);
    if (s && ::rename(tmp.c_str(), path.c_str()) != 0) {
      s = make_error("cannot rename " + tmp + ": " + std::strerror(errno));
    }
    return s;
  };
  auto written = co_await worker_.run<Ok>(std::move(job));
  co_return written;
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
