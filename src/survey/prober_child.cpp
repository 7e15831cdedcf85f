// See prober_child.hpp. Frames to the parent go through one sender thread
// that writes them in order with blocking writes: the probes' event loop
// only queues (host requests, the heartbeat), and the store writer's thread
// waits while too much is queued, so a parent slow to read slows the child's
// writer, whose full buffer then stops new probes (has_room()).
#include "survey/prober_child.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "survey/record_codec.hpp"
#include "survey/runner.hpp"

namespace relayscope::survey {

namespace {

using asio::experimental::as_tuple;

// Writes every byte of `data` to `fd`; false once the pipe is broken.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

class PipeSender {
 public:
  // `heartbeat`: the frame sent after half a second with nothing else to
  // send, so that the parent knows this process and its pipe are alive.
  PipeSender(int fd, std::function<std::string()> heartbeat)
      : fd_(fd), heartbeat_(std::move(heartbeat)), thread_([this] { loop(); }) {}
  ~PipeSender() { close(); }
  PipeSender(const PipeSender&) = delete;
  PipeSender& operator=(const PipeSender&) = delete;

  // Queues a frame. `wait`: block while more than the limit is queued
  // (the store writer's thread; never the event loop). False: the pipe broke.
  bool send(std::string frame, bool wait) {
    std::unique_lock lock(mu_);
    if (wait) room_.wait(lock, [this] { return queued_ < limit || broken_; });
    if (broken_) return false;
    queued_ += frame.size();
    queue_.push_back(std::move(frame));
    cv_.notify_one();
    return true;
  }
  bool broken() const {
    std::lock_guard lock(mu_);
    return broken_;
  }
  // Writes what is queued, then stops the thread.
  void close() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  static constexpr std::size_t limit = 4u << 20;  // bytes queued before the writer waits

  void loop() {
    for (;;) {
      std::string out;
      {
        std::unique_lock lock(mu_);
        bool any = cv_.wait_for(lock, std::chrono::milliseconds(500),
                                [this] { return !queue_.empty() || closing_; });
        if (!any) {
          queue_.push_back(heartbeat_());
          queued_ += queue_.back().size();
        }
        if (queue_.empty()) return;
        // Several frames in one write.
        while (!queue_.empty() && out.size() < (1u << 20)) {
          out += queue_.front();
          queue_.pop_front();
        }
      }
      bool ok = write_all(fd_, out);
      std::lock_guard lock(mu_);
      queued_ -= std::min(queued_, out.size());
      if (!ok) {
        broken_ = true;
        queue_.clear();
        queued_ = 0;
      }
      room_.notify_all();
      if (!ok) return;
    }
  }

  int fd_;
  std::function<std::string()> heartbeat_;
  mutable std::mutex mu_;
  std::condition_variable cv_, room_;
  std::deque<std::string> queue_;
  std::size_t queued_ = 0;
  bool closing_ = false;
  bool broken_ = false;
  std::thread thread_;
};

// Counts the events that --metrics shows (observer.hpp); a finished probe
// needs no event: its record reaches the parent.
class Counter : public ProbeObserver {
 public:
  void started() override { started_.fetch_add(1, std::memory_order_relaxed); }
  void ended(const store::Probe* probe) override {
    if (!probe) local_.fetch_add(1, std::memory_order_relaxed);
  }
  void deferred() override { deferred_.fetch_add(1, std::memory_order_relaxed); }
  wire::Counts now() const { return {started_.load(), deferred_.load(), local_.load()}; }

 private:
  std::atomic<std::int64_t> started_{0}, deferred_{0}, local_{0};
};

// The store a child's scheduler writes to: each batch of finished probes
// goes to the parent as one frame (after the counts, so that the parent
// has seen every probe start before it ends). Nothing else is available.
class PipeStore : public store::Store {
 public:
  PipeStore(PipeSender& sender, const Counter& counter) : sender_(sender), counter_(counter) {}

  Status add_probes(std::int64_t, const std::vector<store::Probe>& probes) override {
    sender_.send(wire::frame(wire::Type::counts, wire::encode_counts(counter_.now())), false);
    if (!sender_.send(wire::frame(wire::Type::probes, wire::encode_probes(probes)), true)) {
      return make_error("the survey's parent process is gone");
    }
    return Ok{};
  }
  std::string backend() const override { return "parent process"; }

  Expected<std::int64_t> create_run(const store::Run&) override { return no(); }
  Status finish_run(std::int64_t, const std::string&, const std::string&) override { return no(); }
  Status mark_prepared(std::int64_t, const store::Funnel&) override { return no(); }
  Status discard_preparation(std::int64_t) override { return no(); }
  Expected<store::Run> get_run(std::int64_t) override { return no(); }
  Expected<std::vector<store::Run>> list_runs() override { return no(); }
  Status add_domains(std::int64_t, const std::vector<store::Domain>&) override { return no(); }
  Status add_resolutions(std::int64_t, const std::vector<store::Resolution>&) override {
    return no();
  }
  Status add_hosts(std::int64_t, std::vector<store::Host>&) override { return no(); }
  Expected<std::vector<store::Host>> get_hosts(std::int64_t, bool) override { return no(); }
  Expected<std::vector<store::Resolution>> get_resolutions(std::int64_t) override { return no(); }
  Expected<std::vector<std::int64_t>> probed_host_ids(std::int64_t) override { return no(); }
  Expected<std::vector<store::Probe>> get_probes(std::int64_t, bool) override { return no(); }
  Status add_arrival(const store::Arrival&) override { return no(); }
  Expected<bool> token_known(const std::string&) override { return no(); }
  Expected<std::optional<store::TokenOwner>> token_owner(const std::string&) override {
    return no();
  }
  Expected<std::vector<store::Arrival>> get_arrivals() override { return no(); }
  Expected<std::vector<store::HostRow>> host_rows(std::int64_t) override { return no(); }
  Expected<std::vector<store::Host>> claim_hosts(std::int64_t, const std::string&, std::size_t,
                                                 std::int64_t) override {
    return no();
  }
  Status renew_leases(std::int64_t, const std::string&, std::int64_t) override { return no(); }
  Expected<std::vector<std::int64_t>> add_leased_probes(std::int64_t, const std::string&,
                                                        const std::vector<store::Probe>&) override {
    return no();
  }
  Expected<bool> claim_address(std::int64_t, const std::string&, const std::string&,
                               std::int64_t) override {
    return no();
  }
  Status release_address(std::int64_t, const std::string&, const std::string&) override {
    return no();
  }
  Expected<std::int64_t> unprobed_count(std::int64_t) override { return no(); }

 private:
  static Error no() { return make_error("a probing process has no store of its own"); }
  PipeSender& sender_;
  const Counter& counter_;
};

// Hosts from the parent, asked for a batch ahead, so that workers rarely wait.
class ParentFeed : public HostFeed {
 public:
  ParentFeed(asio::any_io_executor ex, PipeSender& sender, std::size_t batch)
      : sender_(sender), batch_(batch), arrived_(ex, asio::steady_timer::time_point::max()) {}

  asio::awaitable<std::optional<ProbeTarget>> next() override {
    for (;;) {
      if (!queue_.empty()) {
        auto t = std::move(queue_.front());
        queue_.pop_front();
        ask();
        co_return t;
      }
      if (last_ || stopped_) co_return std::nullopt;
      ask();
      co_await arrived_.async_wait(as_tuple(asio::use_awaitable));
    }
  }
  void add(wire::HostBatch batch) {
    for (auto& t : batch.targets) queue_.push_back(std::move(t));
    last_ = last_ || batch.last;
    asked_ = false;
    arrived_.cancel();
  }
  void stop() {
    stopped_ = true;
    queue_.clear();  // handed out, never started: unprobed, --resume probes them
    arrived_.cancel();
  }

 private:
  void ask() {
    if (asked_ || last_ || stopped_ || queue_.size() >= batch_) return;
    asked_ = true;
    sender_.send(
        wire::frame(wire::Type::want, wire::encode_want(static_cast<std::uint32_t>(batch_))),
        false);
  }
  PipeSender& sender_;
  std::size_t batch_;
  asio::steady_timer arrived_;
  std::deque<ProbeTarget> queue_;
  bool asked_ = false;
  bool last_ = false;
  bool stopped_ = false;
};

// The first frame, read before anything else runs.
std::optional<wire::Frame> read_first_frame(int fd) {
  std::string buffer;
  char chunk[65536];
  for (;;) {
    auto cut = wire::take_frame(buffer);
    if (cut.error) return std::nullopt;
    if (cut.frame) return cut.frame;
    auto n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace

int run_probing_child() {
  // Ctrl-C on a terminal reaches the whole process group: the parent
  // forwards it as a stop frame, so that one Ctrl-C is one stop here too.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  // A parent killed outright takes its children along: nobody would store
  // their probes.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 1;

  auto first = read_first_frame(child_in_fd);
  if (!first || first->type != wire::Type::config) {
    std::fprintf(stderr, "relayscope survey: probing process: no configuration from the parent\n");
    return 1;
  }
  auto config = nlohmann::json::parse(first->body, nullptr, false);
  if (config.is_discarded() || !config.is_object()) return 1;
  auto parsed = options_from_json(config.value("options", std::string()));
  if (!parsed) {
    std::fprintf(stderr, "relayscope survey: probing process: %s\n",
                 parsed.error().message.c_str());
    return 1;
  }
  SurveyOptions o = std::move(*parsed);
  o.concurrency = config.value("concurrency", std::size_t{1});
  o.rate = config.value("rate", 0.0);
  o.progress = false;
  o.probe.client.keep_ehlo_info = false;  // as run_survey: probes keep only what they record
  for (const auto& s : config.value("sources", std::vector<std::string>{})) {
    std::error_code ec;
    auto a = asio::ip::make_address(s, ec);
    if (!ec) o.probe.sources.push_back(a);
  }
  const auto run_id = config.value("run_id", std::int64_t{0});
  const auto batch = config.value("batch", std::size_t{64});

  Counter counter;
  // The counts every half second tell the parent this child is alive and
  // give --metrics its figures between batches. From the sender's thread,
  // not the event loop: a loop busy with its probes is not a hung child.
  PipeSender sender(child_out_fd, [&counter] {
    return wire::frame(wire::Type::counts, wire::encode_counts(counter.now()));
  });
  PipeStore store(sender, counter);
  asio::io_context io;
  ParentFeed feed(io.get_executor(), sender, batch);
  o.observer = &counter;
  o.feed = &feed;
  bool stop = false;
  bool finished = false;
  asio::signal_set signals(io, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    stop = true;
    feed.stop();
  });
  asio::posix::stream_descriptor in(io, child_in_fd);
  std::string buffer;
  std::function<void()> read_more;
  std::array<char, 65536> chunk{};
  read_more = [&] {
    in.async_read_some(asio::buffer(chunk), [&](const std::error_code& ec, std::size_t n) {
      if (ec) {
        if (finished) return;
        // The parent is gone: nobody would store what is probed.
        std::_Exit(1);
      }
      buffer.append(chunk.data(), n);
      for (;;) {
        auto cut = wire::take_frame(buffer);
        if (cut.error) std::_Exit(1);
        if (!cut.frame) break;
        if (cut.frame->type == wire::Type::hosts) {
          auto b = wire::decode_hosts(cut.frame->body);
          if (!b) std::_Exit(1);
          feed.add(std::move(*b));
        } else if (cut.frame->type == wire::Type::stop) {
          stop = true;
          feed.stop();
        }
      }
      read_more();
    });
  };
  read_more();
  int status = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto r = co_await probe_targets(o, store, run_id, {}, stop);
        wire::ChildSummary s;
        if (r) {
          s.local_failures = r->local_failures;
          s.given_up = r->given_up;
          s.greylist_retried = r->greylist_retried;
          s.interrupted = r->interrupted;
        } else {
          s.error = r.error().message;
          status = 1;
        }
        sender.send(wire::frame(wire::Type::counts, wire::encode_counts(counter.now())), false);
        sender.send(wire::frame(wire::Type::summary, wire::encode_summary(s)), false);
      },
      [&](std::exception_ptr e) {
        if (e) status = 1;
        finished = true;
        signals.cancel();
        std::error_code ignored;
        in.cancel(ignored);
      });
  io.run();
  sender.close();
  return sender.broken() ? 1 : status;
}

}  // namespace relayscope::survey
