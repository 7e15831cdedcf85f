// See registry.hpp.
#include "metrics/registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "metrics/exposition.hpp"

namespace relayscope::metrics {

Registry::Series& Registry::series(const std::string& name, const std::string& help, Type type,
                                   Labels labels) {
  if (name.rfind("relayscope_", 0) != 0 || !valid_metric_name(name)) {
    throw std::invalid_argument("metric name '" + name + "' (want relayscope_[a-z0-9_]*)");
  }
  for (const auto& [k, v] : labels) {
    if (!valid_label_name(k)) throw std::invalid_argument("label name '" + k + "' of " + name);
  }
  std::sort(labels.begin(), labels.end());
  std::lock_guard lock(mutex_);
  auto [it, fresh] = families_.try_emplace(name, Family{type, help, {}});
  if (!fresh && it->second.type != type) {
    throw std::invalid_argument("metric '" + name + "' registered as two types");
  }
  return it->second.series[labels];
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  auto& s = series(name, help, Type::counter, labels);
  std::lock_guard lock(mutex_);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  auto& s = series(name, help, Type::gauge, labels);
  std::lock_guard lock(mutex_);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

void Registry::counter_fn(const std::string& name, const std::string& help, const Labels& labels,
                          std::function<double()> read) {
  auto& s = series(name, help, Type::counter, labels);
  std::lock_guard lock(mutex_);
  s.read = std::move(read);
}

void Registry::gauge_fn(const std::string& name, const std::string& help, const Labels& labels,
                        std::function<double()> read) {
  auto& s = series(name, help, Type::gauge, labels);
  std::lock_guard lock(mutex_);
  s.read = std::move(read);
}

std::string Registry::expose() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += family_header(name, family.help, family.type);
    for (const auto& [labels, s] : family.series) {
      double v = 0;
      if (s.read) {
        v = s.read();
      } else if (s.counter) {
        v = static_cast<double>(s.counter->value());
      } else if (s.gauge) {
        v = s.gauge->value();
      }
      out += series_name(name, labels) + " " + format_value(v) + "\n";
    }
  }
  return out;
}

Registry& default_registry() {
  static Registry registry;
  return registry;
}

}  // namespace relayscope::metrics
