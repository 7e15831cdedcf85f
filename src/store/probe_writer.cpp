// See probe_writer.hpp.
#include "store/probe_writer.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace relayscope::store {

ProbeWriter::ProbeWriter(Store& store, std::int64_t run_id, ProbeWriterOptions options)
    : store_(store), run_id_(run_id), options_(std::move(options)) {
  thread_ = std::thread([this] { loop(); });
}

ProbeWriter::~ProbeWriter() {
  (void)close();
}

void ProbeWriter::push(Probe probe) {
  std::lock_guard lock(mu_);
  if (!failure_.empty()) return;  // nothing more can be stored: close() says why
  if (queue_.empty()) oldest_ = std::chrono::steady_clock::now();
  queue_.push_back(std::move(probe));
  if (queue_.size() >= options_.batch) cv_.notify_one();
}

bool ProbeWriter::has_room() const {
  std::lock_guard lock(mu_);
  return queue_.size() + in_write_ < options_.max_buffered;
}

bool ProbeWriter::healthy() const {
  std::lock_guard lock(mu_);
  return !unhealthy_ && failure_.empty();
}

bool ProbeWriter::failed() const {
  std::lock_guard lock(mu_);
  return !failure_.empty();
}

void ProbeWriter::submit(std::function<void(Store&)> job) {
  std::lock_guard lock(mu_);
  jobs_.push_back(std::move(job));
  cv_.notify_one();
}

Status ProbeWriter::close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  if (!failure_.empty()) return make_error(failure_);
  return Ok{};
}

std::size_t ProbeWriter::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + in_write_;
}

std::int64_t ProbeWriter::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

std::int64_t ProbeWriter::discarded() const {
  std::lock_guard lock(mu_);
  return discarded_;
}

void ProbeWriter::loop() {
  for (;;) {
    std::vector<Probe> batch;
    std::deque<std::function<void(Store&)>> jobs;
    bool closing = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.max_delay, [&] {
        return closing_ || !jobs_.empty() || queue_.size() >= options_.batch ||
               (!queue_.empty() &&
                std::chrono::steady_clock::now() - oldest_ >= options_.max_delay);
      });
      closing = closing_;
      jobs.swap(jobs_);
      bool due =
          !queue_.empty() && (closing_ || queue_.size() >= options_.batch ||
                              std::chrono::steady_clock::now() - oldest_ >= options_.max_delay);
      if (due && failure_.empty()) {
        auto n = std::min(queue_.size(), options_.batch);
        batch.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        in_write_ = n;
        oldest_ = std::chrono::steady_clock::now();
      }
    }
    for (auto& job : jobs) job(store_);
    if (!batch.empty()) {
      // While the run goes on a lost database is waited for without limit
      // (has_room() stops new probes); once closing, for retry_for.
      auto give_up = closing ? std::chrono::steady_clock::now() + options_.retry_for
                             : std::chrono::steady_clock::time_point::max();
      bool ok = write(batch, give_up);
      std::lock_guard lock(mu_);
      in_write_ = 0;
      if (!ok) queue_.clear();  // failed for good: reported by close()
      continue;
    }
    std::lock_guard lock(mu_);
    if (closing_ && jobs_.empty() && (queue_.empty() || !failure_.empty())) return;
  }
}

bool ProbeWriter::write(std::vector<Probe>& batch, std::chrono::steady_clock::time_point give_up) {
  auto backoff = std::chrono::milliseconds(100);
  bool retried = false;
  for (;;) {
    Status s = Ok{};
    std::vector<std::int64_t> discarded;
    if (options_.owner.empty()) {
      s = store_.add_probes(run_id_, batch);
    } else {
      auto d = store_.add_leased_probes(run_id_, options_.owner, batch);
      if (d) {
        discarded = std::move(*d);
      } else {
        s = d.error();
      }
    }
    if (s) {
      if (options_.on_written) {
        if (discarded.empty()) {
          options_.on_written(run_id_, batch);
        } else {
          std::set<std::int64_t> lost(discarded.begin(), discarded.end());
          std::vector<Probe> kept;
          for (const auto& p : batch) {
            if (!lost.count(p.host_id)) kept.push_back(p);
          }
          options_.on_written(run_id_, kept);
        }
      }
      std::lock_guard lock(mu_);
      written_ += static_cast<std::int64_t>(batch.size() - discarded.size());
      discarded_ += static_cast<std::int64_t>(discarded.size());
      unhealthy_ = false;
      if (options_.log && !discarded.empty()) {
        std::fprintf(stderr,
                     "relayscope: %zu probe(s) discarded: their hosts' leases ran out and "
                     "another worker took them (the first stored probe wins)\n",
                     discarded.size());
      }
      if (options_.log && retried)
        std::fprintf(stderr, "relayscope: database back, batch written\n");
      return true;
    }
    if (!store_.connection_lost()) {
      std::lock_guard lock(mu_);
      failure_ = s.error().message;
      return false;
    }
    {
      std::lock_guard lock(mu_);
      unhealthy_ = true;
    }
    if (options_.log && !retried) {
      std::fprintf(stderr,
                   "relayscope: database connection lost; %zu probe(s) kept, retrying: %s\n",
                   batch.size(), s.error().message.c_str());
    }
    retried = true;
    if (std::chrono::steady_clock::now() + backoff > give_up) {
      std::lock_guard lock(mu_);
      failure_ = "database unreachable; " + std::to_string(batch.size()) +
                 " probe(s) not stored: " + s.error().message;
      return false;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    if (auto r = store_.reconnect(); !r) continue;
    // The lost COMMIT may have gone through: drop what is stored already, so
    // that nothing is written twice.
    auto done = store_.probed_host_ids(run_id_);
    if (!done) continue;
    std::set<std::int64_t> stored(done->begin(), done->end());
    auto before = batch.size();
    auto stored_now = std::stable_partition(batch.begin(), batch.end(), [&](const Probe& p) {
      return !(p.host_id > 0 && stored.count(p.host_id));
    });
    if (options_.on_written && stored_now != batch.end()) {
      options_.on_written(run_id_, std::vector<Probe>(stored_now, batch.end()));
    }
    batch.erase(stored_now, batch.end());
    if (batch.size() != before) {
      std::lock_guard lock(mu_);
      written_ += static_cast<std::int64_t>(before - batch.size());
    }
    if (batch.empty()) return true;
  }
}

}  // namespace relayscope::store
