// `survey --metrics ADDR:PORT`: the survey's figures as Prometheus series
// (relayscope_survey_*): probes started, in flight and finished, outcomes by
// the step that ended them, probes per second and the store's write rate
// over the last ten seconds. One process, one endpoint: a run spread over
// `--join` workers has one endpoint per worker, and the run's figures are
// their sum (each worker's series carry no label of their own; Prometheus
// tells them apart by its `instance` label).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "metrics/registry.hpp"
#include "survey/observer.hpp"

namespace relayscope::survey {

// Events in the last `window`, per second; safe from any thread.
class RateWindow {
 public:
  explicit RateWindow(std::chrono::seconds window = std::chrono::seconds(10)) : window_(window) {}
  void add(std::int64_t n, std::chrono::steady_clock::time_point now);
  double per_second(std::chrono::steady_clock::time_point now) const;

 private:
  void prune(std::chrono::steady_clock::time_point now) const;
  std::chrono::steady_clock::duration window_;
  mutable std::mutex mu_;
  mutable std::deque<std::pair<std::chrono::steady_clock::time_point, std::int64_t>> events_;
  std::chrono::steady_clock::time_point first_{};
};

class SurveyMetrics : public ProbeObserver {
 public:
  // Registers the series in `registry`, which must outlive this object or
  // stop being scraped before it goes (the rates are read at scrape time).
  explicit SurveyMetrics(metrics::Registry& registry);

  void started() override;
  void ended(const store::Probe* probe) override;
  void deferred() override;
  void stored(std::int64_t run_id, const std::vector<store::Probe>& probes) override;

 private:
  metrics::Registry& registry_;
  metrics::Counter& started_;
  metrics::Counter& finished_;
  metrics::Counter& local_failures_;
  metrics::Counter& deferred_;
  metrics::Counter& stored_;
  metrics::Gauge& in_flight_;
  RateWindow probe_rate_;
  RateWindow store_rate_;
  std::mutex mu_;
  std::map<std::string, metrics::Counter*> outcomes_;
};

}  // namespace relayscope::survey
