// See join.hpp. The store's connection belongs to the writer thread
// (store/probe_writer.hpp) while probes run: claims, renewals and address
// leases are jobs on that thread, awaited here, so the event loop never
// blocks on the database.
#include "survey/join.hpp"

#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <cstdio>
#include <deque>
#include <random>
#include <set>

#include "store/probe_writer.hpp"
#include "survey/address_claims.hpp"
#include "survey/greylist.hpp"
#include "survey/test_message.hpp"

namespace relayscope::survey {

namespace {

using asio::experimental::as_tuple;

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(as_tuple(asio::use_awaitable));
}

// Runs `job` with the store on the writer's thread and gives its result back
// on the event loop.
template <class T>
asio::awaitable<T> on_writer(store::ProbeWriter& writer, std::function<T(store::Store&)> job) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer done(ex, asio::steady_timer::time_point::max());
  std::optional<T> result;
  auto run = [&, ex](store::Store& s) {
    auto r = job(s);
    asio::post(ex, [&, r = std::move(r)]() mutable {
      result = std::move(r);
      done.cancel();
    });
  };
  writer.submit(run);
  while (!result) co_await done.async_wait(as_tuple(asio::use_awaitable));
  co_return std::move(*result);
}

ProbeTarget to_target(const store::Host& h) {
  ProbeTarget t;
  t.host_id = h.id;
  t.ip = h.ip;
  t.domain = h.domains.empty() ? std::string() : h.domains.front();
  t.mx_host = h.mx_host;
  t.fallback_ips = h.fallback_ips;
  return t;
}

struct Claimed {
  Expected<std::vector<store::Host>> hosts;
  bool lost = false;  // the connection broke: try again later
};

class Worker {
 public:
  Worker(const SurveyOptions& options, const net::ScopeGuard& scope, const JoinOptions& join,
         std::int64_t run_id, store::ProbeWriter& writer, const bool& stop)
      : options_(options),
        scope_(scope),
        join_(join),
        run_id_(run_id),
        writer_(writer),
        stop_(stop),
        greylist_(options.greylist_retry) {}

  asio::awaitable<Status> run(SurveySummary& summary) {
    auto ex = co_await asio::this_coro::executor;
    AddressClaims claims(ex);
    claims_ = &claims;
    started_ = std::chrono::steady_clock::now();
    next_slot_ = started_;
    std::size_t workers = std::max<std::size_t>(join_.concurrency, 1);
    std::size_t running = workers + 1;
    asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
    auto ended = [&running, &all_done](std::exception_ptr e) {
      if (e) std::fprintf(stderr, "relayscope: a probe worker failed unexpectedly\n");
      if (--running == 0) all_done.cancel();
    };
    asio::co_spawn(ex, feeder(), ended);
    for (std::size_t i = 0; i < workers; ++i) asio::co_spawn(ex, prober(), ended);
    auto last_renewal = std::chrono::steady_clock::now();
    while (running > 0) {
      asio::steady_timer tick(ex, std::chrono::milliseconds(200));
      co_await tick.async_wait(as_tuple(asio::use_awaitable));
      if (stop_ && !stopping_) {
        stopping_ = true;
        claims.wake_all();
      }
      // Keep the leases of what is claimed, in flight or waiting to be written.
      if (std::chrono::steady_clock::now() - last_renewal > join_.lease / 3) {
        last_renewal = std::chrono::steady_clock::now();
        auto run_id = run_id_;
        auto owner = join_.owner;
        auto lease = join_.lease.count();
        writer_.submit([run_id, owner, lease](store::Store& s) {
          if (auto r = s.renew_leases(run_id, owner, lease); !r && !s.connection_lost()) {
            std::fprintf(stderr, "relayscope: %s\n", r.error().message.c_str());
          }
        });
      }
      if (join_.progress) print_progress(false);
      if (!failure_.empty()) stopping_ = true;
    }
    if (join_.progress) print_progress(true);
    for (auto& [k, v] : outcomes_) summary.outcomes[k] += v;
    summary.interrupted = stop_;
    if (!failure_.empty()) co_return make_error(failure_);
    co_return Ok{};
  }

  bool finished() const { return finished_; }

 private:
  // Claims hosts while the local queue runs low; ends when no host of the
  // run is left unprobed, or on stop.
  asio::awaitable<void> feeder() {
    const std::size_t batch = std::max<std::size_t>(join_.concurrency, 16);
    while (!stopping_) {
      if (queue_.size() >= batch || !writer_.has_room()) {
        co_await sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (writer_.failed()) {
        failure_ = "the database refused a write";
        break;
      }
      if (!writer_.healthy()) {
        // The database is away: no new claims until the writer can write.
        co_await sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      auto run_id = run_id_;
      auto owner = join_.owner;
      auto lease = join_.lease.count();
      auto job = [run_id, owner, batch, lease](store::Store& s) {
        // A database that went away is tried again here too, not only by writes.
        if (s.connection_lost()) (void)s.reconnect();
        Claimed c{s.claim_hosts(run_id, owner, batch, lease), false};
        c.lost = !c.hosts && s.connection_lost();
        return c;
      };
      auto claimed = co_await on_writer<Claimed>(writer_, job);
      auto& got = claimed.hosts;
      if (!got) {
        // A lost connection is retried with the writes; anything else ends us.
        if (claimed.lost) {
          co_await sleep_for(std::chrono::milliseconds(500));
          continue;
        }
        failure_ = got.error().message;
        break;
      }
      for (const auto& h : *got) queue_.push_back(to_target(h));
      claimed_ += got->size();
      if (!got->empty()) continue;
      // Greylist retries waiting keep their hosts leased (unprobed, renewed
      // with the rest) until they are done.
      if (!queue_.empty() || in_flight_ > 0 || writer_.pending() > 0 || greylist_.waiting() > 0) {
        co_await sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      // Nothing to claim: done, or other workers hold the rest (a dead
      // one's leases run out, and its hosts come back).
      auto count = [run_id](store::Store& s) { return s.unprobed_count(run_id); };
      auto left = co_await on_writer<Expected<std::int64_t>>(writer_, count);
      if (left && *left == 0) {
        finished_ = true;
        break;
      }
      co_await sleep_for(std::chrono::milliseconds(500));
    }
    feeding_ = false;
  }

  asio::awaitable<void> pace() {
    if (join_.rate <= 0) co_return;
    auto now = std::chrono::steady_clock::now();
    auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(1.0 / join_.rate));
    auto slot = std::max(now, next_slot_);
    next_slot_ = slot + interval;
    if (slot > now) {
      asio::steady_timer t(co_await asio::this_coro::executor, slot);
      co_await t.async_wait(as_tuple(asio::use_awaitable));
    }
  }

  asio::awaitable<void> prober() {
    for (;;) {
      if (stopping_) co_return;
      // A greylist retry that is due comes first: it has waited its delay.
      if (auto retry = greylist_.take_due(std::chrono::steady_clock::now())) {
        ++in_flight_;
        if (join_.observer) join_.observer->started();
        co_await probe(retry->target, &*retry);
        --in_flight_;
        continue;
      }
      if (queue_.empty()) {
        if (greylist_.waiting() > 0) {
          co_await sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        if (!feeding_) co_return;
        co_await sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      ProbeTarget target = std::move(queue_.front());
      queue_.pop_front();
      ++in_flight_;
      if (join_.observer) join_.observer->started();
      co_await probe(target);
      --in_flight_;
      while (!writer_.has_room() && !stopping_ && !writer_.failed()) {
        co_await sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  // `retry`: a greylist retry, with the first try's answer.
  asio::awaitable<void> probe(const ProbeTarget& target, GreylistRetries::Entry* retry = nullptr) {
    co_await pace();
    bool held = co_await claims_->claim(target.ip, stopping_);
    if (!held) {
      if (!retry) queue_.push_front(target);  // stopped first: released with the rest
      if (join_.observer) join_.observer->ended(nullptr);
      co_return;
    }
    // Fallback MX addresses: claimed in the run's table for all workers,
    // before the probe, so that the gate below answers without waiting.
    std::set<std::string> allowed;
    if (options_.probe.mx_fallback) {
      for (const auto& ip : target.fallback_ips) {
        auto run_id = run_id_;
        auto owner = join_.owner;
        auto lease = join_.lease.count();
        auto job = [run_id, ip, owner, lease](store::Store& s) {
          auto r = s.claim_address(run_id, ip, owner, lease);
          return r && *r;
        };
        bool ok = co_await on_writer<bool>(writer_, job);
        if (ok) allowed.insert(ip);
      }
    }
    std::vector<std::string> local{target.ip};
    auto gate = [this, &allowed, &local](const std::string& ip) {
      if (!allowed.count(ip) || !claims_->try_claim(ip)) return false;
      local.push_back(ip);
      return true;
    };
    const auto probe_started = std::chrono::steady_clock::now();
    auto p = co_await run_probe(target, options_.probe, scope_, gate);
    for (const auto& ip : local) claims_->release(ip);
    for (const auto& ip : allowed) {
      auto run_id = run_id_;
      auto owner = join_.owner;
      writer_.submit(
          [run_id, ip, owner](store::Store& s) { (void)s.release_address(run_id, ip, owner); });
    }
    if (retry) {
      p = merge_greylist_retry(std::move(retry->first), std::move(p),
                               retry->offset_us(probe_started));
    } else if (greylist_.wants_retry(target, p)) {
      // Greylisted, perhaps: probed again after the delay, stored then (a
      // worker killed meanwhile leaves the host unprobed for another).
      greylist_.defer(target, std::move(p), std::chrono::steady_clock::now());
      if (join_.observer) join_.observer->deferred();
      co_return;
    }
    ++outcomes_[p.outcome];
    ++done_;
    if (join_.observer) join_.observer->ended(&p);
    writer_.push(std::move(p));
  }

  void print_progress(bool final) {
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::fprintf(stderr, "\rrelayscope: worker %s probed %zu hosts (%.0f/s), %zu in flight   %s",
                 join_.owner.c_str(), done_, secs > 0 ? static_cast<double>(done_) / secs : 0.0,
                 in_flight_, final ? "\n" : "");
    std::fflush(stderr);
  }

  const SurveyOptions& options_;
  const net::ScopeGuard& scope_;
  const JoinOptions& join_;
  std::int64_t run_id_;
  store::ProbeWriter& writer_;
  const bool& stop_;
  AddressClaims* claims_ = nullptr;
  std::deque<ProbeTarget> queue_;
  bool stopping_ = false;
  bool feeding_ = true;
  bool finished_ = false;
  std::size_t in_flight_ = 0;
  std::size_t done_ = 0;
  std::size_t claimed_ = 0;
  std::string failure_;
  std::map<std::string, std::int64_t> outcomes_;
  std::chrono::steady_clock::time_point started_, next_slot_;
  GreylistRetries greylist_;
};

}  // namespace

std::string worker_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "worker");
  std::random_device rd;
  char tail[16];
  std::snprintf(tail, sizeof tail, "%06x", rd() & 0xffffffu);
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + tail;
}

asio::awaitable<Expected<SurveySummary>> join_run(store::Store& store, std::int64_t run_id,
                                                  JoinOptions join, const bool& stop) {
  SurveySummary summary;
  summary.run_id = run_id;
  auto run = store.get_run(run_id);
  if (!run) co_return run.error();
  summary.funnel = run->funnel;
  if (!run->prepared) {
    co_return make_error("run " + std::to_string(run_id) +
                         " is not prepared: prepare it with `survey ... --prepare-only` (or "
                         "--resume it) before workers join");
  }
  auto saved = options_from_json(run->params_json);
  if (!saved) co_return saved.error();
  SurveyOptions options = std::move(*saved);
  // The machine's own: its name, its address, how fast.
  options.concurrency = join.concurrency;
  options.rate = join.rate;
  if (!join.helo.empty()) options.probe.client.helo_name = join.helo;
  options.probe.sources = join.sources;
  options.probe.client.keep_ehlo_info = false;  // probes keep only what they record
  auto scope = check_options(options);
  if (!scope) co_return scope.error();
  if (join.owner.empty()) join.owner = worker_name();

  const auto began = std::chrono::steady_clock::now();
  bool finished = false;
  Status status = Ok{};
  std::int64_t written = 0;
  {
    store::ProbeWriterOptions wo;
    wo.owner = join.owner;
    if (auto* o = join.observer) {
      wo.on_written = [o](std::int64_t id, const std::vector<store::Probe>& p) {
        o->stored(id, p);
      };
    }
    store::ProbeWriter writer(store, run_id, wo);
    Worker worker(options, *scope, join, run_id, writer, stop);
    status = co_await worker.run(summary);
    finished = worker.finished();
    if (auto s = writer.close(); !s && status) status = s.error();
    written = writer.written();
    if (writer.discarded() > 0) {
      std::fprintf(stderr, "relayscope: %lld probe(s) of this worker discarded (leases lost)\n",
                   static_cast<long long>(writer.discarded()));
    }
  }
  summary.probed_now = written;
  summary.probing_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  // Hosts claimed and not probed go back at once, not when the lease runs out.
  (void)store.renew_leases(run_id, join.owner, -1);
  if (!status) co_return status.error();
  if (finished) {
    auto left = store.unprobed_count(run_id);
    if (left && *left == 0) {
      if (auto s = store.finish_run(run_id, "done", iso8601_now()); !s) co_return s.error();
    }
  }
  co_return summary;
}

}  // namespace relayscope::survey
