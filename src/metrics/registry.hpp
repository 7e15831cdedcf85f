// The process's metrics: counters and gauges with labels, cheap to update
// from any thread (one relaxed atomic), rendered on demand in Prometheus'
// text format (exposition.hpp) for `--metrics ADDR:PORT` (server.hpp).
//
// Use: look a series up once, at start-up or when a label value first
// appears, and keep the reference (references stay valid for the registry's
// life); then inc()/set() on the hot path takes no lock:
//
//   auto& accepted = metrics::default_registry().counter(
//       "relayscope_relay_messages_total", "Messages by what became of them",
//       {{"result", "accepted"}});
//   accepted.inc();
//
// Or let the scrape read a figure the code already keeps (evaluated on the
// scraping thread, under the registry's lock: the function must be safe to
// call there, e.g. read an atomic or run on the same io_context):
//
//   registry.gauge_fn("relayscope_collect_sessions", "Open sessions", {},
//                     [&] { return double(collector.active_sessions()); });
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace relayscope::metrics {

// Label name -> value pairs, in the order given (kept sorted by name inside).
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::int64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

enum class Type { counter, gauge };

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The series `name{labels}`, created at zero on first use. The name must
  // start with "relayscope_" and be a valid Prometheus name, label names
  // valid label names, and one name keeps one type and help text: a
  // programming error otherwise (std::invalid_argument, at start-up).
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  // A series whose value is read at scrape time.
  void counter_fn(const std::string& name, const std::string& help, const Labels& labels,
                  std::function<double()> read);
  void gauge_fn(const std::string& name, const std::string& help, const Labels& labels,
                std::function<double()> read);

  // Every series in the text exposition format (version 0.0.4), families by
  // name, series by labels: the same state gives the same text.
  std::string expose() const;

 private:
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::function<double()> read;
  };
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, Series> series;
  };
  Series& series(const std::string& name, const std::string& help, Type type, Labels labels);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

// The registry `--metrics` serves: one per process.
Registry& default_registry();

}  // namespace relayscope::metrics
