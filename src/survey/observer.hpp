// What the survey tells an onlooker about its probes (`--metrics`,
// `--jsonl`): started and ended on the event loop (cheap: counters only),
// stored on the writer's thread with each batch once it is in the store, so
// that slow output never holds a probe up.
#pragma once

#include <cstdint>
#include <vector>

#include "store/store.hpp"

namespace relayscope::survey {

class ProbeObserver {
 public:
  virtual ~ProbeObserver() = default;
  virtual void started() {}
  // `probe` is null for a local failure (no descriptor, no source port): the
  // host is tried again later and has no outcome yet.
  virtual void ended(const store::Probe* /*probe*/) {}
  // The probe ended with a 4xx at RCPT TO: it has no outcome until its
  // greylist retry, which starts (and ends) as a probe of its own.
  virtual void deferred() {}
  virtual void stored(std::int64_t /*run_id*/, const std::vector<store::Probe>& /*probes*/) {}
};

// Several observers as one.
class ObserverList : public ProbeObserver {
 public:
  void add(ProbeObserver* o) {
    if (o) list_.push_back(o);
  }
  bool empty() const { return list_.empty(); }
  void started() override {
    for (auto* o : list_) o->started();
  }
  void ended(const store::Probe* probe) override {
    for (auto* o : list_) o->ended(probe);
  }
  void deferred() override {
    for (auto* o : list_) o->deferred();
  }
  void stored(std::int64_t run_id, const std::vector<store::Probe>& probes) override {
    for (auto* o : list_) o->stored(run_id, probes);
  }

 private:
  std::vector<ProbeObserver*> list_;
};

}  // namespace relayscope::survey
