// relayscope demo, in-process: the lab with an IMC profile on loopback, the
// survey of a sample of its hosts through the lab's own DNS server, and the
// figures beside the IMC's. One event loop runs all of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/expected.hpp"
#include "demo/comparison.hpp"

namespace relayscope::demo {

struct DemoOptions {
  std::string profile = "imc-1999-07";
  std::string imc_run = "July 1999";  // the IMC figures printed beside ours
  std::size_t sample = 500;
  std::uint64_t seed = 1999;
  std::chrono::milliseconds timeout{5000};  // per wait of a probe
  std::size_t concurrency = 250;
  std::string db;         // empty: a temporary database, removed afterwards
  std::string truth_out;  // write the lab's ground truth here (for tests)
  std::string profiles_dir;
  bool progress = false;
  // Handle SIGINT and SIGTERM: the first stops the demo in order (no new
  // probes, the lab and the collector stop, what is in flight ends, the
  // temporary files go); a second ends the process at once (status 130).
  bool handle_signals = false;
  // Called once the lab and the collector run and the survey starts (and the
  // signals, if handled, are caught).
  std::function<void()> on_started;
};

struct DemoResult {
  std::int64_t run_id = 0;
  std::string dns;  // where the lab's DNS server was
  std::size_t lab_hosts = 0;
  RunFigures figures;
  std::string table;         // the comparison, ready to print
  bool interrupted = false;  // stopped by a signal: no figures
};

Expected<DemoResult> run_demo(const DemoOptions& options);

}  // namespace relayscope::demo
