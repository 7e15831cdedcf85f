// See ledger.hpp.
#include "lab/ledger.hpp"

namespace relayscope::lab {

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::accepted:
      return "accepted";
    case EventKind::delivered:
      return "delivered";
    case EventKind::delivery_failed:
      return "delivery_failed";
    case EventKind::bounced:
      return "bounced";
    case EventKind::bounce_failed:
      return "bounce_failed";
    case EventKind::dropped:
      return "dropped";
    case EventKind::local:
      return "local";
  }
  return "accepted";
}

void Ledger::record(std::size_t host, Event event) {
  std::lock_guard lock(mutex_);
  auto& t = tallies_[host];
  ++t.counts[event.kind];
  if (t.recent.size() < max_recent) t.recent.push_back(std::move(event));
}

LedgerTotals Ledger::totals() const {
  std::lock_guard lock(mutex_);
  LedgerTotals out;
  for (const auto& [host, t] : tallies_) {
    for (const auto& [kind, n] : t.counts) out.events[to_string(kind)] += n;
    if (t.counts.count(EventKind::delivered)) ++out.hosts_delivered;
    if (t.counts.count(EventKind::bounced)) ++out.hosts_bounced;
    if (t.counts.count(EventKind::dropped)) ++out.hosts_dropped;
  }
  return out;
}

std::unordered_map<std::size_t, HostTally> Ledger::snapshot() const {
  std::lock_guard lock(mutex_);
  return tallies_;
}

std::uint64_t Ledger::count(EventKind kind) const {
  std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& [host, t] : tallies_) {
    if (auto it = t.counts.find(kind); it != t.counts.end()) n += it->second;
  }
  return n;
}

std::string token_of(const std::string& address) {
  auto at = address.rfind('@');
  auto local = address.substr(0, at == std::string::npos ? address.size() : at);
  auto plus = local.find('+');
  if (plus == std::string::npos) return {};
  return local.substr(plus + 1);
}

}  // namespace relayscope::lab
