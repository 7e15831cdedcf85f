// See probe_scheduler.hpp.
#include "survey/probe_scheduler.hpp"

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstdio>

#include "common/open_files.hpp"
#include "store/probe_writer.hpp"
#include "survey/address_claims.hpp"

namespace relayscope::survey {

using namespace asio::experimental::awaitable_operators;

// Ends every wait for a connection slot (--rate) at once when the run is
// stopped: each such wait races this one, and the loser is cancelled.
class ProbeScheduler::StopBroadcast {
 public:
  explicit StopBroadcast(asio::any_io_executor ex)
      : timer_(ex, asio::steady_timer::time_point::max()) {}
  void fire() { timer_.cancel(); }
  asio::awaitable<void> wait() {
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }

 private:
  asio::steady_timer timer_;
};

ProbeScheduler::ProbeScheduler(const SurveyOptions& options, const net::ScopeGuard& scope,
                               store::Store& store, std::int64_t run_id,
                               std::vector<ProbeTarget> targets, const bool& stop)
    : options_(options),
      scope_(scope),
      store_(store),
      run_id_(run_id),
      targets_(std::make_move_iterator(targets.begin()), std::make_move_iterator(targets.end())),
      stop_(stop),
      greylist_(options.greylist_retry) {}

asio::awaitable<Status> ProbeScheduler::run(SurveySummary& summary) {
  auto ex = co_await asio::this_coro::executor;
  StopBroadcast broadcast(ex);
  broadcast_ = &broadcast;
  // Finished probes are written by the writer's thread (store/probe_writer.hpp).
  store::ProbeWriterOptions writer_options;
  // A probing child's "store" is the pipe to its parent, which batches
  // again: little to gain from waiting here.
  if (options_.feed) writer_options.max_delay = std::chrono::milliseconds(100);
  if (auto* o = options_.observer) {
    writer_options.on_written = [o](std::int64_t id, const std::vector<store::Probe>& p) {
      o->stored(id, p);
    };
  }
  store::ProbeWriter writer(store_, run_id_, writer_options);
  writer_ = &writer;
  AddressClaims claims(ex);
  claims_ = &claims;
  asio::steady_timer room(ex, asio::steady_timer::time_point::max());
  room_ = &room;
  stopping_ = stop_;  // stopped between preparing and probing: start nothing
  started_ = std::chrono::steady_clock::now();
  next_slot_ = started_;
  // Fed hosts (options_.feed) come later: as many workers as allowed.
  auto workers = std::min<std::size_t>(
      std::max<std::size_t>(options_.concurrency, 1),
      options_.feed ? options_.concurrency : std::max<std::size_t>(targets_.size(), 1));
  // Each probe holds one descriptor (two while a variant reconnects);
  // beyond the open-files limit, less some for the store and DNS, probes
  // would only fail locally: cap them there and say so.
  const auto open_files = raise_open_files_limit();
  const std::size_t reserve = 64;
  const std::size_t fit = open_files > reserve * 2 ? open_files - reserve : open_files / 2;
  if (workers > fit) {
    std::fprintf(stderr,
                 "relayscope survey: --concurrency %zu exceeds what the open-files limit (%llu) "
                 "allows; at most %zu probes run at once\n",
                 workers, static_cast<unsigned long long>(open_files), fit);
    workers = fit;
  }
  max_in_flight_ = cap_ = workers;
  std::size_t running = workers;
  asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < workers; ++i) {
    asio::co_spawn(ex, worker(), [&running, &all_done](std::exception_ptr e) {
      if (e) std::fprintf(stderr, "relayscope: a probe worker failed unexpectedly\n");
      if (--running == 0) all_done.cancel();
    });
  }
  // Watch for the stop request and for progress, until the workers end.
  while (running > 0) {
    asio::steady_timer tick(ex, std::chrono::milliseconds(200));
    co_await (tick.async_wait(asio::experimental::as_tuple(asio::use_awaitable)) ||
              all_done.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
    if (stop_ && !stopping_) {
      // No new probe starts; those in flight run to their end (each wait
      // bounded by --timeout) and are recorded, so resume skips them.
      stopping_ = true;
      broadcast.fire();
      claims.wake_all();
      room.cancel();
    }
    if (options_.progress) print_progress(false);
  }
  if (auto s = writer.close(); !s) failure_ = s.error().message;
  if (options_.progress) print_progress(true);
  summary.probed_now = writer.written();
  // Hosts given up after local failures are unrecorded: the run is not
  // done, and --resume probes them.
  summary.interrupted = (stopping_ && done_ < targets_.size()) || given_up_ > 0;
  summary.local_failures = static_cast<std::int64_t>(local_failures_);
  summary.given_up = static_cast<std::int64_t>(given_up_);
  summary.greylist_retried = static_cast<std::int64_t>(greylist_retried_);
  // Retries still waiting when the run stopped: their hosts are unrecorded
  // (not done), so --resume probes them again from the start.
  greylist_.clear();
  for (auto& [k, v] : outcomes_) summary.outcomes[k] += v;
  if (!failure_.empty()) co_return make_error(failure_);
  co_return Ok{};
}

asio::awaitable<void> ProbeScheduler::pace() {
  if (options_.rate <= 0) co_return;
  auto now = std::chrono::steady_clock::now();
  auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / options_.rate));
  auto slot = std::max(now, next_slot_);
  next_slot_ = slot + interval;
  if (slot > now) {
    asio::steady_timer t(co_await asio::this_coro::executor, slot);
    co_await (t.async_wait(asio::experimental::as_tuple(asio::use_awaitable)) ||
              broadcast_->wait());
  }
}

// The next target: one to try again after a local failure first.
std::optional<std::size_t> ProbeScheduler::take() {
  if (!retry_.empty()) {
    auto i = retry_.front();
    retry_.pop_front();
    return i;
  }
  if (next_ < targets_.size()) return next_++;
  return std::nullopt;
}

// Waits while the in-flight cap (lowered after local failures) is reached;
// a probe that ends, a raised cap or the stop wakes one waiter.
asio::awaitable<void> ProbeScheduler::wait_for_room() {
  while (running_ >= cap_ && !stopping_) {
    ++waiting_;
    co_await room_->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    --waiting_;
  }
}
void ProbeScheduler::wake_one() {
  if (waiting_ > 0) room_->cancel_one();
}

// A local failure (no descriptor, no source port): the host is tried again
// later, the pace drops to what is in flight now less a quarter, and the
// worker waits a moment. After max_local_retries the host is given up,
// unrecorded, and the summary says so.
asio::awaitable<void> ProbeScheduler::after_local_failure(std::size_t index) {
  ++local_failures_;
  cap_ = std::max<std::size_t>(1, std::min(cap_, running_ + 1) * 3 / 4);
  auto& n = local_attempts_[index];
  if (++n > max_local_retries) {
    ++given_up_;
    ++done_;
    co_return;
  }
  retry_.push_back(index);
  asio::steady_timer t(co_await asio::this_coro::executor,
                       std::chrono::milliseconds(50 * std::min<std::size_t>(n, 20)));
  co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

// Waits until the next greylist retry is due, or the stop.
asio::awaitable<void> ProbeScheduler::wait_for_retry() {
  // Each idle worker waits for a retry of its own (the k-th due), not all
  // of them for the next: at tens of thousands of workers a herd woken at
  // every due retry (each cancelling its wait on the broadcast timer, a
  // walk of all the others) stalled the loop for minutes.
  auto due = greylist_.due_of(retry_waiters_);
  if (!due) co_return;
  ++retry_waiters_;
  asio::steady_timer t(co_await asio::this_coro::executor, *due);
  co_await (t.async_wait(asio::experimental::as_tuple(asio::use_awaitable)) || broadcast_->wait());
  --retry_waiters_;
}

std::unique_ptr<GreylistRetries::Entry> ProbeScheduler::take_due_retry() {
  auto due = greylist_.take_due(std::chrono::steady_clock::now());
  if (!due) return nullptr;
  return std::make_unique<GreylistRetries::Entry>(std::move(*due));
}

// Hosts handed out by a parent process (survey --processes).
asio::awaitable<std::optional<std::size_t>> ProbeScheduler::take_fed() {
  auto fed = co_await options_.feed->next();
  if (!fed) co_return std::nullopt;
  targets_.push_back(std::move(*fed));
  next_ = targets_.size();
  co_return targets_.size() - 1;
}

// The database is slower than the probes, or away: wait for room.
asio::awaitable<void> ProbeScheduler::wait_for_writer() {
  while (!writer_->has_room() && !stopping_ && !writer_->failed()) {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
    co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
}

// What happens to a probe that ended (not a local failure): a first try
// that looks greylisted waits for its retry; anything else is recorded.
// Not a coroutine: the record and the retry's first try are never held in a
// worker's frame, which lives as long as the run (one per probe in flight).
void ProbeScheduler::settle(std::unique_ptr<GreylistRetries::Entry> retry,
                            const ProbeTarget& target, std::unique_ptr<store::Probe> probe,
                            std::chrono::steady_clock::time_point probe_started) {
  if (retry) {
    *probe = merge_greylist_retry(std::move(retry->first), std::move(*probe),
                                  retry->offset_us(probe_started));
    ++greylist_retried_;
  } else if (greylist_.wants_retry(target, *probe)) {
    // Greylisted, perhaps: probed again after the delay, recorded then.
    greylist_.defer(target, std::move(*probe), std::chrono::steady_clock::now());
    if (options_.observer) options_.observer->deferred();
    return;
  }
  // Room comes back slowly once probes connect again.
  if (cap_ < max_in_flight_ && ++since_raise_ >= 8) {
    ++cap_;
    since_raise_ = 0;
    wake_one();
  }
  if (options_.observer) options_.observer->ended(probe.get());
  ++outcomes_[probe->outcome];
  ++done_;
  writer_->push(std::move(*probe));
}

// Tens of thousands of these wait at once, each for its probe: what the
// frame holds (every local, for the run's whole length) is kept small, the
// bulky parts on the heap or in plain functions.
asio::awaitable<void> ProbeScheduler::worker() {
  while (!stopping_) {
    co_await wait_for_room();
    if (stopping_) break;
    // A greylist retry that is due comes first: it has waited its delay.
    auto retry = take_due_retry();
    std::optional<std::size_t> index;
    if (!retry) index = take();
    if (!retry && !index && options_.feed) {
      index = co_await take_fed();
      if (stopping_) break;
    }
    if (!retry && !index) {
      // Nothing to start now. Retries still wait: this worker serves the
      // next one that is due (the run does not end before they are done).
      // Else nothing is left: a host handed back after a local failure
      // is taken again by the worker that handed it back.
      // One idle worker per waiting retry is enough; the others end.
      if (greylist_.waiting() <= retry_waiters_) break;
      co_await wait_for_retry();
      continue;
    }
    const ProbeTarget& target = retry ? retry->target : targets_[*index];
    co_await pace();
    if (stopping_) break;
    // At most one connection at a time to any one address, fallbacks
    // included: see address_claims.hpp.
    bool claimed = co_await claims_->claim(target.ip, stopping_);
    if (!claimed) break;
    std::vector<std::string> fallbacks;  // claimed too (rare: empty allocates nothing)
    auto gate = [this, &fallbacks](const std::string& ip) {
      if (!claims_->try_claim(ip)) return false;
      fallbacks.push_back(ip);
      return true;
    };
    // Not raced with the stop: a probe that started is finished and
    // recorded (a second signal ends the process instead).
    ++running_;
    if (retry) ++retries_running_;
    if (options_.observer) options_.observer->started();
    bool local = false;
    const auto probe_started = std::chrono::steady_clock::now();
    auto probe = co_await probe_host(target, options_.probe, scope_, gate, &local);
    --running_;
    wake_one();
    claims_->release(target.ip);
    for (const auto& ip : fallbacks) claims_->release(ip);
    std::vector<std::string>().swap(fallbacks);
    if (retry) --retries_running_;
    if (local && options_.observer) options_.observer->ended(nullptr);
    if (local && retry) {
      // The retry could not connect for a shortage of ours: it waits
      // again, briefly, its first answer kept.
      ++local_failures_;
      cap_ = std::max<std::size_t>(1, std::min(cap_, running_ + 1) * 3 / 4);
      greylist_.put_back(std::move(*retry),
                         std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
      continue;
    }
    if (local) {
      probe.reset();
      co_await after_local_failure(*index);
      continue;
    }
    settle(std::move(retry), target, std::move(probe), probe_started);
    if (writer_->failed()) break;
    co_await wait_for_writer();
  }
}

// The current rate (over the last ten seconds, not since the start), an
// ETA from it, and at the end what the run is waiting for.
void ProbeScheduler::print_progress(bool final) {
  const auto now = std::chrono::steady_clock::now();
  recent_.push_back({now, done_});
  while (recent_.size() > 2 && now - recent_.front().first > std::chrono::seconds(10)) {
    recent_.pop_front();
  }
  const double window = std::chrono::duration<double>(now - recent_.front().first).count();
  const double rate =
      window > 0 ? static_cast<double>(done_ - recent_.front().second) / window : 0.0;
  const std::size_t left = targets_.size() - done_;
  std::string tail;
  if (final) {
    tail = "\n";
  } else if (next_ >= targets_.size() && !stopping_ && greylist_.waiting() + retries_running_ > 0) {
    tail = ", waiting for " + std::to_string(greylist_.waiting() + retries_running_) +
           " greylist retries (--greylist-retry)";
  } else if (next_ >= targets_.size() || stopping_) {
    // Every probe has started: what is left are the slow ones.
    tail = ", waiting for the last " + std::to_string(running_) +
           " probes (each bounded by --timeout per step)";
  } else if (rate > 0) {
    tail = ", ETA " + format_eta(static_cast<double>(left) / rate);
  }
  std::fprintf(stderr, "\rrelayscope: probed %zu of %zu hosts (%.0f/s now), %zu in flight%s   ",
               done_, targets_.size(), rate, running_, tail.c_str());
  std::fflush(stderr);
}

std::string ProbeScheduler::format_eta(double seconds) {
  auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  }
  return buf;
}

}  // namespace relayscope::survey
