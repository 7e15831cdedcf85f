// See survey_metrics.hpp.
#include "survey/survey_metrics.hpp"

#include <algorithm>

namespace relayscope::survey {

void RateWindow::add(std::int64_t n, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  if (events_.empty() && first_ == std::chrono::steady_clock::time_point{}) first_ = now;
  events_.emplace_back(now, n);
  prune(now);
}

void RateWindow::prune(std::chrono::steady_clock::time_point now) const {
  while (!events_.empty() && now - events_.front().first > window_) events_.pop_front();
}

double RateWindow::per_second(std::chrono::steady_clock::time_point now) const {
  std::lock_guard lock(mu_);
  prune(now);
  std::int64_t n = 0;
  for (const auto& e : events_) n += e.second;
  if (n == 0) return 0;
  // In the first seconds the window is what has passed since the first event.
  auto span = std::min(window_, now - first_);
  double seconds = std::max(std::chrono::duration<double>(span).count(), 1.0);
  return static_cast<double>(n) / seconds;
}

SurveyMetrics::SurveyMetrics(metrics::Registry& registry)
    : registry_(registry),
      started_(registry.counter("relayscope_survey_probes_started_total", "Probes started")),
      finished_(registry.counter("relayscope_survey_probes_finished_total",
                                 "Probes finished with an outcome")),
      local_failures_(registry.counter(
          "relayscope_survey_local_failures_total",
          "Probes that failed for a shortage of our own (tried again later, no outcome)")),
      deferred_(registry.counter(
          "relayscope_survey_greylist_deferred_total",
          "Probes answered 4xx at RCPT TO, to be tried again after --greylist-retry")),
      stored_(registry.counter("relayscope_survey_store_writes_total",
                               "Finished probes written to the store")),
      in_flight_(registry.gauge("relayscope_survey_probes_in_flight", "Probes running now")) {
  registry.gauge_fn("relayscope_survey_probes_per_second",
                    "Probes finished per second over the last ten seconds", {},
                    [this] { return probe_rate_.per_second(std::chrono::steady_clock::now()); });
  registry.gauge_fn("relayscope_survey_store_writes_per_second",
                    "Probes written to the store per second over the last ten seconds", {},
                    [this] { return store_rate_.per_second(std::chrono::steady_clock::now()); });
  // The IMC's steps exist from the start, at zero, so a rate() sees them begin.
  for (const char* o : {"CONNECT", "EHLO", "MAIL", "TO", "DATA", "QUIT", "OK"}) {
    outcomes_[o] = &registry.counter("relayscope_survey_outcomes_total",
                                     "Finished probes by the step that ended them (the IMC's "
                                     "outcome: CONNECT ... OK)",
                                     {{"outcome", o}});
  }
}

void SurveyMetrics::started() {
  started_.inc();
  in_flight_.add(1);
}

void SurveyMetrics::deferred() {
  in_flight_.add(-1);
  deferred_.inc();
}

void SurveyMetrics::ended(const store::Probe* probe) {
  in_flight_.add(-1);
  if (!probe) {
    local_failures_.inc();
    return;
  }
  finished_.inc();
  probe_rate_.add(1, std::chrono::steady_clock::now());
  metrics::Counter* c = nullptr;
  {
    std::lock_guard lock(mu_);
    auto& slot = outcomes_[probe->outcome];
    if (!slot) {
      slot = &registry_.counter("relayscope_survey_outcomes_total",
                                "Finished probes by the step that ended them (the IMC's "
                                "outcome: CONNECT ... OK)",
                                {{"outcome", probe->outcome}});
    }
    c = slot;
  }
  c->inc();
}

void SurveyMetrics::stored(std::int64_t, const std::vector<store::Probe>& probes) {
  if (probes.empty()) return;
  stored_.inc(static_cast<std::int64_t>(probes.size()));
  store_rate_.add(static_cast<std::int64_t>(probes.size()), std::chrono::steady_clock::now());
}

}  // namespace relayscope::survey
