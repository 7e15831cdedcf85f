// Writes finished probes off the event loop: a thread takes them in batches
// (one transaction each) while the probes go on. A lost database connection
// is retried with backoff and the batch written when it returns; meanwhile
// probes wait in a bounded buffer, and `has_room()` turning false tells the
// survey to start no new probe (a worker that cannot write stops claiming).
// Other store work (claims, renewals) can run on the same thread, so that the
// connection is never used from two threads and the loop never blocks on it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace relayscope::store {

struct ProbeWriterOptions {
  std::size_t batch = 256;                    // probes per transaction at most
  std::size_t max_buffered = 4096;            // has_room() is false from here on
  std::chrono::milliseconds max_delay{1000};  // a probe waits at most this long for its batch
  // Empty: add_probes. Else a --join worker's name: add_leased_probes, and
  // probes of hosts whose lease another worker has taken are discarded (logged).
  std::string owner;
  // How long close() keeps retrying a lost database before giving up.
  std::chrono::milliseconds retry_for{std::chrono::minutes(5)};
  bool log = true;  // retries and discarded probes on stderr
  // Called on the writer's thread with each batch once it is stored (less
  // the probes discarded for a lost lease): `survey --jsonl` and the store's
  // write rate in `--metrics` hang here, off the probes' event loop.
  std::function<void(std::int64_t run_id, const std::vector<Probe>&)> on_written;
};

class ProbeWriter {
 public:
  // The store is shared with the writer's thread until close(): a call from
  // another thread meanwhile waits for the batch being written (stores are
  // synchronized.hpp), so work on the event loop goes through submit().
  ProbeWriter(Store& store, std::int64_t run_id, ProbeWriterOptions options);
  ProbeWriter(const ProbeWriter&) = delete;
  ProbeWriter& operator=(const ProbeWriter&) = delete;
  ~ProbeWriter();

  void push(Probe probe);
  // Fewer than max_buffered probes wait to be written.
  bool has_room() const;
  // False while the database cannot be reached (retrying) or after a write
  // failed for good.
  bool healthy() const;
  // A write failed for good (not a lost connection): stop probing.
  bool failed() const;
  // Runs `job` on the writer thread, between batches.
  void submit(std::function<void(Store&)> job);
  // Writes what is left (retrying a lost database up to retry_for) and stops
  // the thread. The first failure that could not be retried, if any.
  Status close();

  // Probes pushed and not yet written (buffered or in a batch being written).
  std::size_t pending() const;
  std::int64_t written() const;
  std::int64_t discarded() const;

 private:
  void loop();
  // Writes one batch, retrying a lost connection; false: failed for good.
  bool write(std::vector<Probe>& batch, std::chrono::steady_clock::time_point give_up);

  Store& store_;
  std::int64_t run_id_;
  ProbeWriterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Probe> queue_;
  std::deque<std::function<void(Store&)>> jobs_;
  std::size_t in_write_ = 0;  // probes taken from the queue, not yet written
  bool closing_ = false;
  bool unhealthy_ = false;
  std::string failure_;
  std::int64_t written_ = 0;
  std::int64_t discarded_ = 0;
  std::chrono::steady_clock::time_point oldest_;
  std::thread thread_;
};

}  // namespace relayscope::store
