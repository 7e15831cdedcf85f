// Greylisting (--greylist-retry, issue 12 item 4): a host that answers 4xx at
// RCPT TO is probed once more after the delay, in the same run, with the same
// token (so the same sender and recipient: greylisters key on the client's
// address, the sender and the recipient). The retries wait here, ordered by
// when they are due, so that the probe slots serve other hosts meanwhile;
// nothing of a waiting host is stored until its retry is done, so a run
// killed or stopped with retries pending probes those hosts again on
// --resume or --join. Pure: no I/O, the clock is the caller's.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>

#include "store/store.hpp"
#include "survey/probe.hpp"

namespace relayscope::survey {

// Whether `p`, a first try, is answered as greylisters answer: a 4xx reply
// at RCPT TO of the IMC transaction (outcome TO, code 400-499).
bool greylist_answer(const store::Probe& p);

// Whether a variant's answer on the first try stands for the retry: any
// reply but a 4xx (a 2yz or 3yz went on, a 5yz is permanent). Not tried,
// or no reply: sent again.
bool final_answer(const store::VariantResult& v);

// The probe stored for a greylisted host: the retry's outcome, code, reason
// and variants (but the variants settled on the first try, which keep its
// answers: ProbeTarget::settled_variants), the first try's code and reply line beside it, both
// dialogues in the transcript (a '*' line between them; the retry's times
// shifted by `retry_offset_us`, from the first try's start to the retry's),
// both durations added up (the time spent talking to the host).
store::Probe merge_greylist_retry(store::Probe first, store::Probe retry,
                                  std::int64_t retry_offset_us);

class GreylistRetries {
 public:
  using Clock = std::chrono::steady_clock;

  struct Entry {
    ProbeTarget target;  // with the first try's token
    store::Probe first;
    Clock::time_point due;
    Clock::time_point first_started;  // for the transcript's times
    // Microseconds from the first try's start to `at` (merge_greylist_retry).
    std::int64_t offset_us(Clock::time_point at) const {
      return std::chrono::duration_cast<std::chrono::microseconds>(at - first_started).count();
    }
  };

  // delay 0: greylisting is not retried (enabled() is false).
  explicit GreylistRetries(std::chrono::milliseconds delay) : delay_(delay) {}

  bool enabled() const { return delay_.count() > 0; }
  // A first try that should be retried: enabled, not a retry itself (the
  // target carries no token yet), and a greylister's answer.
  bool wants_retry(const ProbeTarget& target, const store::Probe& first) const;

  // Schedules the retry `delay` after `now`, with the first try's token and
  // its settled variants.
  void defer(ProbeTarget target, store::Probe first, Clock::time_point now);
  // Puts a taken retry back, due at `due` (its probe failed locally).
  void put_back(Entry entry, Clock::time_point due);
  // The earliest retry that is due at `now`, removed from the queue.
  std::optional<Entry> take_due(Clock::time_point now);
  // When the next retry is due; nothing when none waits.
  std::optional<Clock::time_point> next_due() const;
  // When the k-th retry in due order (0: the next) is due; nothing past the last.
  std::optional<Clock::time_point> due_of(std::size_t k) const;
  std::size_t waiting() const { return queue_.size(); }
  // Drops every waiting retry (the run stopped): their hosts stay unprobed.
  void clear() { queue_.clear(); }

 private:
  std::chrono::milliseconds delay_;
  std::multimap<Clock::time_point, Entry> queue_;
};

}  // namespace relayscope::survey
