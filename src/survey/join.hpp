// A worker of a shared run (`survey --db URI --join RUN`): claims sampled
// hosts in batches with a lease, probes them, stores them, and claims more
// until no host is left; hosts of a worker that died come back when its
// lease runs out. What is probed and how (scope, exclusions, sender,
// recipient, variants, timeouts) comes from the run; what belongs to the
// machine comes from the worker: its HELO name, source address,
// concurrency and rate. Any number of workers on any machines may join.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "store/store.hpp"
#include "survey/runner.hpp"

namespace relayscope::survey {

struct JoinOptions {
  std::size_t concurrency = 100;
  double rate = 0;                         // new connections per second, 0: unlimited
  std::string helo;                        // empty: the run's
  std::vector<asio::ip::address> sources;  // bind probes to these (--source, round-robin)
  std::chrono::milliseconds lease{60000};  // renewed every third of it while probing
  std::string owner;                       // this worker's name; empty: host:pid:random
  bool progress = false;
  ProbeObserver* observer = nullptr;  // --metrics, --jsonl
};

// A worker's name: the host name, the process id and a random part.
std::string worker_name();

// Probes run `run_id`'s unclaimed hosts until none is left or `stop` turns
// true (probes in flight finish and are stored; the hosts claimed but not
// started are released at once). When no host is left unprobed, marks the
// run done.
asio::awaitable<Expected<SurveySummary>> join_run(store::Store& store, std::int64_t run_id,
                                                  JoinOptions options, const bool& stop);

}  // namespace relayscope::survey
