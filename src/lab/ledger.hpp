// What the lab's hosts really did with the mail they accepted: delivered to
// the recipient's MX, bounced to the sender, dropped, kept as local mail, or
// failed to pass on. The ground truth that tests and the demo compare the
// survey and the collector with. Thread-safe (the demo may read it from
// another thread than the lab's); per host at most a few recent events are
// kept, the counters are exact.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace relayscope::lab {

enum class EventKind : std::uint8_t {
  accepted,         // a message taken after the final dot
  delivered,        // relayed: the recipient's MX said 250
  delivery_failed,  // relaying failed for good (no MX, refused, tries used up)
  bounced,          // a DSN went to the sender's MX and was taken
  bounce_failed,    // the DSN could not be delivered
  dropped,          // accepted and thrown away (accept_drop, quit_error, null-sender bounce)
  local,            // for the host's own domain: kept (not stored)
};
const char* to_string(EventKind k);

struct Event {
  EventKind kind = EventKind::accepted;
  std::string token;      // the probe's token from the envelope sender's +tag, if any
  std::string trick;      // the trick behaviour's spelling that relayed, if any
  std::string recipient;  // bare
  std::string detail;
  std::int64_t t_ms = 0;  // since the lab started
};

struct HostTally {
  std::map<EventKind, std::uint32_t> counts;
  std::vector<Event> recent;  // the first max_recent events
};

struct LedgerTotals {
  std::map<std::string, std::int64_t> events;  // by kind name
  std::int64_t hosts_delivered = 0;            // hosts with at least one delivered message
  std::int64_t hosts_bounced = 0;
  std::int64_t hosts_dropped = 0;
};

class Ledger {
 public:
  static constexpr std::size_t max_recent = 16;

  void record(std::size_t host, Event event);
  LedgerTotals totals() const;
  // Copy of the tallies of hosts with any event.
  std::unordered_map<std::size_t, HostTally> snapshot() const;
  std::uint64_t count(EventKind kind) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, HostTally> tallies_;
};

// "probe+TOKEN@domain" -> "TOKEN" (the survey's VERP-style tag); "" if none.
std::string token_of(const std::string& address);

}  // namespace relayscope::lab
