// See spool.hpp. The spool's writes: opening it, whole messages (DSNs),
// finished recipients, removals, retry facts; streamed messages are in
// spool_incoming.cpp, reading it back in spool_recovery.cpp. File layout of
// queue/<id>:
//   "relayscope-spool 1\n" then "key: value\n" lines (id, size, check of a
//   message written whole, arrival, client, helo, auth, from, rcpt...), an
//   empty line, then the message as received.
// queue/<id>.done: "recipient\tresult\n" lines, appended and fsync'd.
#include "server/spool.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/durable_file.hpp"
#include "server/spool_check.hpp"

namespace relayscope::server {

namespace fs = std::filesystem;

namespace {

// Spent files kept in free/ at most (each at most SpoolFilePool::max_file_size).
constexpr std::size_t spent_files_kept = 2048;

}  // namespace

Expected<DurableFile> Spool::write_whole_file(SpoolFilePool& pool, const std::string& tmp,
                                              const std::string& final_path,
                                              SpoolEnvelope& envelope, std::string_view content) {
  envelope.check = spool_check(content);
  auto head = format_envelope(envelope, content.size());
  // In place only a file that stays as small as the pool's: recovery
  // verifies the check of those alone (a big one never was a spent file).
  auto how = head.size() + content.size() <= SpoolFilePool::max_file_size
                 ? DurableFile::Reuse::in_place
                 : DurableFile::Reuse::emptied;
  auto file = new_file(pool, tmp, final_path, how);
  if (!file) return file.error();
  if (auto s = file->write_whole(head, content); !s) return s.error();
  return file;
}

Expected<DurableFile> Spool::new_file(SpoolFilePool& pool, const std::string& tmp,
                                      const std::string& final_path, DurableFile::Reuse how) {
  if (auto spent = pool.take()) {
    auto file = DurableFile::reuse(*spent, final_path, how);
    if (file) return file;
    // Gone or unusable (removed by hand): a new file instead.
  }
  return DurableFile::create(tmp, final_path);
}

Expected<std::unique_ptr<Spool>> Spool::open(const std::string& dir, Worker& worker,
                                             GroupCommit::DataSync data_sync) {
  std::error_code ec;
  for (auto d : {dir, dir + "/tmp", dir + "/queue", dir + "/state", dir + "/free"}) {
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
  auto pool = std::make_shared<SpoolFilePool>(dir + "/free", spent_files_kept);
  if (auto s = pool->adopt(); !s) return s.error();
  // What a crash left of removals (a name gone from queue/, a file come to
  // free/) is made durable before any spent file is written over.
  for (const auto& d : {dir + "/queue", dir + "/free"}) {
    if (auto s = sync_dir(d, worker.fsync_enabled()); !s) return s.error();
  }
  return std::unique_ptr<Spool>(new Spool(dir, worker, data_sync, std::move(pool)));
}

Spool::Spool(std::string dir, Worker& worker, GroupCommit::DataSync data_sync,
             std::shared_ptr<SpoolFilePool> pool)
    : dir_(std::move(dir)), worker_(worker), pool_(std::move(pool)) {
  GroupCommit::Settings g;
  g.dir = queue_dir();
  g.fsync = worker.fsync_enabled();
  g.data_sync = data_sync;
  group_ = std::make_unique<GroupCommit>(std::move(g));
}

Spool::~Spool() {
  auto s = group_->stats();
  group_.reset();  // finishes what was handed in
  auto p = pool_->stats();
  if (p.reused + p.missed > 0) {
    spdlog::info("spool: {} messages written over spent files, {} in new files; {} files kept",
                 p.reused, p.missed, p.kept);
  }
  if (s.rounds == 0) return;
  spdlog::info(
      "spool: group commit made {} changes durable in {} rounds ({:.1f} a round, at most {}): "
      "{} fdatasync, {} syncfs, {} fsync of queue/, {} failed",
      s.items, s.rounds, static_cast<double>(s.items) / static_cast<double>(s.rounds),
      s.largest_round, s.file_syncs, s.filesystem_syncs, s.dir_syncs, s.failed);
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
  auto id = envelope.id;
  // The job is a named local and the result is co_returned from one: GCC 12
  // double-destroys temporaries of "co_return co_await f(lambda)". The
  // check and the head are made there too, off the event loop (a DSN may
  // be big).
  auto job = [tmp, final_path, queue, envelope = std::move(envelope), message = std::move(message),
              id, pool = pool_](Batch& b) mutable -> Expected<std::string> {
    auto file = write_whole_file(*pool, tmp, final_path, envelope, message);
    if (!file) return file.error();
    auto s = file->finish(b.fsync_enabled());
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

asio::awaitable<Status> Spool::remove(std::string id, bool fresh) {
  auto path = queue_dir() + "/" + id;
  auto state = state_dir() + "/" + id;
  // The unlinks run on the sync thread, and the round's one fsync of queue/
  // makes them durable along with the messages accepted meanwhile.
  auto spent = std::make_shared<std::optional<std::string>>();
  auto pool = pool_;  // in the frame: used after the wait, whatever became of *this
  auto unlink = [path, state, fresh, pool, spent]() -> Status {
    // The message first: a .done file left alone is harmless (removed at start).
    // Its file goes to free/ for a new message when the pool takes it.
    *spent = pool->give(path);
    if (!*spent && ::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return make_error("cannot remove " + path + ": " + std::strerror(errno));
    }
    if (!fresh) {
      ::unlink((path + ".done").c_str());
      ::unlink(state.c_str());
    }
    return Ok{};
  };
  GroupCommit::Item item{nullptr, unlink};
  item.may_wait = true;  // no session waits for it: it rides with a message's round
  Status removed = co_await group_->commit(std::move(item));
  if (*spent) pool->settled(std::move(**spent), static_cast<bool>(removed));
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

}  // namespace relayscope::server
