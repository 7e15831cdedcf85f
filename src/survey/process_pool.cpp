// See process_pool.hpp. Each child has a pipe each way, read and written
// with asio on this process's event loop; the store is touched only by the
// ProbeWriter's thread while children probe.
#include "survey/process_pool.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include "store/probe_writer.hpp"
#include "survey/prober_child.hpp"

extern char** environ;

namespace relayscope::survey {

std::size_t processes_needed(std::size_t concurrency, std::uint64_t limit) {
  const std::uint64_t fit = limit > open_files_reserve * 2 ? limit - open_files_reserve : limit / 2;
  if (fit == 0) return 1;
  return std::max<std::size_t>(1, static_cast<std::size_t>((concurrency + fit - 1) / fit));
}

std::size_t share_of(std::size_t total, std::size_t n, std::size_t i) {
  if (n == 0) return 0;
  return total / n + (i < total % n ? 1 : 0);
}

HostHandout::HostHandout(std::vector<ProbeTarget> targets, bool keep_together)
    : targets_(std::move(targets)) {
  if (!keep_together) return;
  // Union-find over the hosts, joined by address; a group's root is its
  // first host, so groups keep the order of their first hosts.
  const std::size_t n = targets_.size();
  std::vector<std::size_t> root(n);
  std::iota(root.begin(), root.end(), std::size_t{0});
  auto find = [&root](std::size_t i) {
    while (root[i] != i) i = root[i] = root[root[i]];
    return i;
  };
  {
    std::unordered_map<std::string_view, std::size_t> holder;  // an address -> a host with it
    auto join = [&](std::size_t i, const std::string& ip) {
      auto [it, fresh] = holder.try_emplace(ip, i);
      if (fresh) return;
      const auto a = find(i), b = find(it->second);
      if (a != b) root[std::max(a, b)] = std::min(a, b);
    };
    for (std::size_t i = 0; i < n; ++i) {
      join(i, targets_[i].ip);
      for (const auto& ip : targets_[i].fallback_ips) join(i, ip);
    }
  }
  for (std::size_t i = 0; i < n; ++i) root[i] = find(i);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&root](std::size_t a, std::size_t b) { return root[a] < root[b]; });
  std::vector<ProbeTarget> grouped;
  grouped.reserve(n);
  group_end_.resize(n);
  for (std::size_t k = 0; k < n;) {
    std::size_t end = k;
    while (end < n && root[order[end]] == root[order[k]]) ++end;
    for (; k < end; ++k) {
      grouped.push_back(std::move(targets_[order[k]]));
      group_end_[k] = end;
    }
  }
  targets_ = std::move(grouped);
}

wire::HostBatch HostHandout::take(std::size_t n) {
  wire::HostBatch b;
  if (!stopped_) {
    auto end = std::min(targets_.size(), next_ + n);
    if (!group_end_.empty() && end > next_) end = std::max(end, group_end_[end - 1]);
    for (; next_ < end; ++next_) b.targets.push_back(std::move(targets_[next_]));
  }
  b.last = stopped_ || next_ >= targets_.size();
  return b;
}

namespace {

using asio::experimental::as_tuple;
using clock = std::chrono::steady_clock;

// A child silent this long (its sender thread's heartbeat comes every half
// second) is hung (stopped, or its pipe stuck): killed, and its unfinished
// hosts left unprobed.
constexpr auto hang_limit = std::chrono::seconds(60);
// After its pipe closed, a child has this long to exit before it is killed.
constexpr auto exit_grace = std::chrono::seconds(5);

struct Child {
  Child(asio::any_io_executor ex, int in, int out) : to(ex, in), from(ex, out) {}
  std::size_t index = 0;
  pid_t pid = -1;
  asio::posix::stream_descriptor to;    // frames to the child
  asio::posix::stream_descriptor from;  // frames from the child
  std::string outbox;                   // frames not yet written to it
  bool writing = false;
  bool eof = false;  // its pipe closed (it exited, or is exiting)
  clock::time_point eof_at{};
  bool reaped = false;
  int wait_status = 0;
  bool killed = false;  // by us: hung or corrupt
  std::string trouble;  // why we killed it
  std::optional<wire::ChildSummary> summary;
  wire::Counts counts;  // the last totals it sent
  clock::time_point last_heard = clock::now();
};

void send_to(const std::shared_ptr<Child>& c, std::string frame);

void flush(const std::shared_ptr<Child>& c) {
  if (c->writing || c->outbox.empty()) return;
  c->writing = true;
  auto data = std::make_shared<std::string>(std::move(c->outbox));
  c->outbox.clear();
  asio::async_write(c->to, asio::buffer(*data), [c, data](const std::error_code& ec, std::size_t) {
    c->writing = false;
    if (ec) {
      c->outbox.clear();  // the child is gone: its reader sees it
      return;
    }
    flush(c);
  });
}

void send_to(const std::shared_ptr<Child>& c, std::string frame) {
  if (c->eof) return;
  c->outbox += frame;
  flush(c);
}

// A pipe whose ends do not leak into other children (close-on-exec), each
// end moved above the descriptors that the child's file actions use.
bool make_pipe(int& read_end, int& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end = ::fcntl(fds[0], F_DUPFD_CLOEXEC, 10);
  write_end = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
  ::close(fds[0]);
  ::close(fds[1]);
  return read_end >= 0 && write_end >= 0;
}

Expected<pid_t> spawn_child(const std::string& exe, int child_in, int child_out) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, child_in, child_in_fd);
  posix_spawn_file_actions_adddup2(&fa, child_out, child_out_fd);
  std::vector<std::string> args{"relayscope", "survey", "--db", "-", "--probing-child"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return make_error("cannot start a probing process: " + std::string(strerror(rc)));
  return pid;
}

std::string describe_exit(const Child& c) {
  if (!c.trouble.empty()) return c.trouble;
  if (WIFSIGNALED(c.wait_status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(c.wait_status));
  }
  if (WIFEXITED(c.wait_status) && WEXITSTATUS(c.wait_status) != 0) {
    return "exited with status " + std::to_string(WEXITSTATUS(c.wait_status));
  }
  return "ended before it was done";
}

class Pool {
 public:
  Pool(const SurveyOptions& options, store::ProbeWriter& writer, HostHandout& handout,
       SurveySummary& summary)
      : options_(options), writer_(writer), handout_(handout), summary_(summary) {}

  asio::awaitable<void> read(std::shared_ptr<Child> c) {
    std::array<char, 65536> chunk{};
    std::string buffer;
    for (;;) {
      auto [ec, n] =
          co_await c->from.async_read_some(asio::buffer(chunk), as_tuple(asio::use_awaitable));
      if (ec) break;
      c->last_heard = clock::now();
      buffer.append(chunk.data(), n);
      bool corrupt = false;
      for (;;) {
        auto cut = wire::take_frame(buffer);
        if (cut.error) {
          corrupt = true;
          break;
        }
        if (!cut.frame) break;
        bool ok = co_await handle(c, std::move(*cut.frame));
        if (!ok) {
          corrupt = true;
          break;
        }
      }
      if (corrupt) {
        c->trouble = "sent an unreadable frame and was stopped";
        c->killed = true;
        ::kill(c->pid, SIGKILL);
        break;
      }
    }
    c->eof = true;
    c->eof_at = clock::now();
    std::error_code ignored;
    c->from.close(ignored);
    c->to.close(ignored);
  }

  // Applies the child's new totals to the observer (--metrics): the sum
  // over the children is the run's.
  void apply(Child& c, const wire::Counts& now) {
    auto* o = options_.observer;
    for (auto i = c.counts.started; i < now.started; ++i) {
      ++started_;
      if (o) o->started();
    }
    for (auto i = c.counts.deferred; i < now.deferred; ++i) {
      ++ended_;
      if (o) o->deferred();
    }
    for (auto i = c.counts.local_failures; i < now.local_failures; ++i) {
      ++ended_;
      if (o) o->ended(nullptr);
    }
    c.counts.started = std::max(c.counts.started, now.started);
    c.counts.deferred = std::max(c.counts.deferred, now.deferred);
    c.counts.local_failures = std::max(c.counts.local_failures, now.local_failures);
  }

  asio::awaitable<bool> handle(std::shared_ptr<Child> c, wire::Frame f) {
    switch (f.type) {
      case wire::Type::want: {
        auto n = wire::decode_want(f.body);
        if (!n) co_return false;
        auto batch = handout_.take(std::clamp<std::size_t>(*n, 1, 65536));
        send_to(c, wire::frame(wire::Type::hosts, wire::encode_hosts(batch)));
        co_return true;
      }
      case wire::Type::counts: {
        auto counts = wire::decode_counts(f.body);
        if (!counts) co_return false;
        apply(*c, *counts);
        co_return true;
      }
      case wire::Type::probes: {
        auto probes = wire::decode_probes(f.body);
        if (!probes) co_return false;
        for (auto& p : *probes) {
          ++ended_;
          if (options_.observer) options_.observer->ended(&p);
          ++summary_.outcomes[p.outcome];
          ++received_;
          writer_.push(std::move(p));
        }
        // The database is slower than the children: stop reading this one
        // (its pipe fills, its writer waits, it starts no new probe).
        while (!writer_.has_room() && !writer_.failed()) {
          asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
          co_await t.async_wait(as_tuple(asio::use_awaitable));
          c->last_heard = clock::now();
        }
        co_return true;
      }
      case wire::Type::summary: {
        auto s = wire::decode_summary(f.body);
        if (!s) co_return false;
        c->summary = std::move(*s);
        co_return true;
      }
      default:
        co_return false;
    }
  }

  void print_progress(bool final, std::size_t children) {
    const auto now = clock::now();
    recent_.push_back({now, received_});
    while (recent_.size() > 2 && now - recent_.front().first > std::chrono::seconds(10)) {
      recent_.pop_front();
    }
    const double window = std::chrono::duration<double>(now - recent_.front().first).count();
    const double rate =
        window > 0 ? static_cast<double>(received_ - recent_.front().second) / window : 0.0;
    const auto in_flight = started_ > ended_ ? started_ - ended_ : 0;
    std::fprintf(stderr,
                 "\rrelayscope: probed %zu of %zu hosts (%.0f/s now), %lld in flight, %zu "
                 "probing processes%s   ",
                 received_, handout_.total(), rate, static_cast<long long>(in_flight), children,
                 final ? "\n" : "");
    std::fflush(stderr);
  }

  std::size_t received() const { return received_; }

 private:
  const SurveyOptions& options_;
  store::ProbeWriter& writer_;
  HostHandout& handout_;
  SurveySummary& summary_;
  std::size_t received_ = 0;
  std::int64_t started_ = 0, ended_ = 0;
  std::deque<std::pair<clock::time_point, std::size_t>> recent_;
};

}  // namespace

asio::awaitable<Status> ProcessPool::probe(const SurveyOptions& options, store::Store& store,
                                           std::int64_t run_id, std::vector<ProbeTarget> targets,
                                           SurveySummary& summary, const bool& stop) {
  auto ex = co_await asio::this_coro::executor;
  const std::size_t total = targets.size();
  const std::size_t n =
      std::max<std::size_t>(1, std::min(processes_, std::max<std::size_t>(total, 1)));
  HostHandout handout(std::move(targets), options.probe.mx_fallback);
  if (total == 0) co_return Ok{};
  ::signal(SIGPIPE, SIG_IGN);  // a dead child's pipe is an error value, not a signal

  // The children first, then the writer's thread: nothing else runs while
  // they start.
  std::vector<std::shared_ptr<Child>> children;
  std::string failure;
  for (std::size_t i = 0; i < n; ++i) {
    int to_read = -1, to_write = -1, from_read = -1, from_write = -1;
    if (!make_pipe(to_read, to_write) || !make_pipe(from_read, from_write)) {
      failure = "cannot make a pipe for a probing process";
      break;
    }
    auto pid = spawn_child(exe_, to_read, from_write);
    ::close(to_read);
    ::close(from_write);
    if (!pid) {
      ::close(to_write);
      ::close(from_read);
      failure = pid.error().message;
      break;
    }
    auto c = std::make_shared<Child>(ex, to_write, from_read);
    c->index = i;
    c->pid = *pid;
    const auto concurrency = std::max<std::size_t>(1, share_of(options.concurrency, n, i));
    nlohmann::json config;
    config["options"] = options_to_json(options);
    config["concurrency"] = concurrency;
    config["rate"] = options.rate / static_cast<double>(n);
    std::vector<std::string> sources;
    for (const auto& s : options.probe.sources) sources.push_back(s.to_string());
    config["sources"] = sources;
    config["run_id"] = run_id;
    // A child holds between one and two batches ahead of its probes: half
    // its concurrency, so that the tails stay even (a host waits in one
    // child's queue while another idles for at most that many).
    config["batch"] = std::clamp<std::size_t>(concurrency / 2, 1, 1024);
    send_to(c, wire::frame(wire::Type::config, config.dump()));
    children.push_back(std::move(c));
  }
  if (children.empty()) co_return make_error(failure);
  std::fprintf(stderr,
               "relayscope survey: probing in %zu processes (--processes), at most %zu probes "
               "at once in each; this one writes the store\n",
               children.size(), std::max<std::size_t>(1, share_of(options.concurrency, n, 0)));
  if (!failure.empty()) {
    std::fprintf(stderr, "relayscope survey: %s; probing with %zu processes\n", failure.c_str(),
                 children.size());
  }

  store::ProbeWriterOptions writer_options;
  if (auto* o = options.observer) {
    writer_options.on_written = [o](std::int64_t id, const std::vector<store::Probe>& p) {
      o->stored(id, p);
    };
  }
  store::ProbeWriter writer(store, run_id, writer_options);
  Pool pool(options, writer, handout, summary);
  std::size_t reading = children.size();
  for (auto& c : children) {
    auto reader = pool.read(c);
    asio::co_spawn(ex, std::move(reader), [&reading](std::exception_ptr) { --reading; });
  }

  bool stopping = false;
  auto unreaped = [&] {
    return std::any_of(children.begin(), children.end(), [](const auto& c) { return !c->reaped; });
  };
  while (reading > 0 || unreaped()) {
    asio::steady_timer tick(ex, std::chrono::milliseconds(200));
    co_await tick.async_wait(as_tuple(asio::use_awaitable));
    const auto now = clock::now();
    if (stop && !stopping) {
      // Forwarded: no new probe anywhere; those in flight finish and come back.
      stopping = true;
      handout.stop();
      for (auto& c : children) send_to(c, wire::frame(wire::Type::stop, {}));
    }
    if (writer.failed() && !stopping) {
      stopping = true;
      handout.stop();
      for (auto& c : children) send_to(c, wire::frame(wire::Type::stop, {}));
    }
    for (auto& c : children) {
      if (c->reaped) continue;
      if (!c->eof && now - c->last_heard > hang_limit) {
        c->trouble =
            "stopped answering for " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(hang_limit).count()) +
            " s and was killed";
        c->killed = true;
        ::kill(c->pid, SIGKILL);
        std::error_code ignored;
        c->from.cancel(ignored);
      }
      int st = 0;
      auto r = ::waitpid(c->pid, &st, WNOHANG);
      if (r == c->pid) {
        c->reaped = true;
        c->wait_status = st;
      } else if (c->eof && now - c->eof_at > exit_grace) {
        ::kill(c->pid, SIGKILL);
      }
    }
    if (options.progress) {
      auto live =
          std::count_if(children.begin(), children.end(), [](const auto& c) { return !c->eof; });
      pool.print_progress(false, static_cast<std::size_t>(live));
    }
  }
  if (options.progress) pool.print_progress(true, 0);
  Status status = Ok{};
  if (auto s = writer.close(); !s) status = s.error();
  summary.probed_now = writer.written();
  for (const auto& c : children) {
    const bool clean =
        c->summary && !c->killed && WIFEXITED(c->wait_status) && WEXITSTATUS(c->wait_status) == 0;
    if (c->summary) {
      summary.local_failures += c->summary->local_failures;
      summary.given_up += c->summary->given_up;
      summary.greylist_retried += c->summary->greylist_retried;
      if (!c->summary->error.empty() && status) status = make_error(c->summary->error);
    }
    if (!clean && !(c->summary && !c->summary->error.empty())) {
      ++summary.processes_lost;
      std::fprintf(stderr,
                   "relayscope survey: probing process %zu (pid %d) %s; the hosts it had not "
                   "finished stay unprobed (--resume probes them)\n",
                   c->index + 1, static_cast<int>(c->pid), describe_exit(*c).c_str());
    }
  }
  // Done only once every host's probe is stored.
  summary.interrupted = static_cast<std::size_t>(summary.probed_now) < total;
  co_return status;
}

}  // namespace relayscope::survey
