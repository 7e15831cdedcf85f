// The queue manager: the one owner of deliveries and retries, a queue plus
// couriers. Each spooled message is tried at once, then on the retry
// schedule; routing (routing.hpp) gives each recipient its destination, a
// courier (courier.hpp: Maildir for local recipients, SMTP for the smarthost
// or the domain's MX hosts) carries it there, and settle() (settle.hpp)
// decides from the outcomes what is finished. Failures for good (5xx, or too
// long in the queue) give one RFC 3464 DSN to the sender (never to the null
// sender), queued like any message. A message leaves the spool only when
// every recipient is finished.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "net/scope_guard.hpp"
#include "server/config.hpp"
#include "server/courier.hpp"
#include "server/dsn.hpp"
#include "server/policy.hpp"
#include "server/spool.hpp"
#include "server/worker.hpp"

namespace relayscope::dns {
class Resolver;
}

namespace relayscope::server {

struct QueueSettings {
  std::string hostname;
  std::string mailbox_root;
  DeliveryConfig delivery;
};

// The wait before retry number `attempts` (1 = after the first failed
// attempt): the schedule's entries in turn, the last one repeating.
std::chrono::milliseconds retry_delay(const std::vector<std::chrono::milliseconds>& schedule,
                                      int attempts);

class QueueManager {
 public:
  // With the real couriers: Maildir for local recipients, SMTP for the rest.
  QueueManager(asio::any_io_executor executor, QueueSettings settings, Spool& spool, Worker& worker,
               const RelayPolicy& policy, dns::Resolver* resolver, net::ScopeGuard scope);
  // With the given couriers (tests use fakes); they must outlive the manager.
  QueueManager(asio::any_io_executor executor, QueueSettings settings, Spool& spool, Worker& worker,
               const RelayPolicy& policy, Courier& local, Courier& remote);
  ~QueueManager();
  QueueManager(const QueueManager&) = delete;
  QueueManager& operator=(const QueueManager&) = delete;

  void start();
  void stop();
  // A message now in the spool (new, or recovered at start): tried at once.
  // `at_hand`: the message as the session had it whole in memory (a small
  // one), so that its first attempt does not read it back from the spool;
  // kept while the copies held stay under held_budget, else let go.
  void add(const SpoolEntry& entry, std::shared_ptr<const SpoolMessage> at_hand = nullptr);
  static constexpr std::size_t held_budget = 16 * 1024 * 1024;
  // Everything waiting for a retry is tried now.
  void flush();
  // Stores a message we write ourselves (a DSN) and queues it.
  asio::awaitable<Expected<std::string>> submit(SpoolEnvelope envelope, std::string message);

  std::size_t size() const { return items_.size(); }
  // Whether the message is known (queued or being tried); for a rescan.
  bool has(const std::string& id) const { return items_.count(id) != 0; }
  std::size_t in_flight() const { return in_flight_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Item {
    SpoolEnvelope envelope;
    std::set<std::string> pending;  // recipients not finished
    int attempts = 0;               // counted again from 0 after a restart
    bool busy = false;
    bool flush_requested = false;                 // a flush came while busy: retry at once
    Clock::time_point queued_at = Clock::now();   // taken by the queue manager: delays= a|b
    std::shared_ptr<const SpoolMessage> at_hand;  // for the first attempt (see add())
    bool fresh = false;  // no .done or state file written for it (SpoolEntry::fresh)
  };

  asio::awaitable<void> scheduler();
  asio::awaitable<void> attempt(std::string id);
  asio::awaitable<Outcomes> try_recipients(std::string id, const Item& item,
                                           std::shared_ptr<const SpoolMessage> message);
  // Queues the DSN of `failed`; false when it could not be stored.
  asio::awaitable<bool> bounce(std::string id, SpoolEnvelope envelope,
                               std::vector<FailedRecipient> failed,
                               std::shared_ptr<const SpoolMessage> message);
  void wake();
  asio::awaitable<void> remove_finished(std::string id);

  asio::any_io_executor executor_;
  QueueSettings settings_;
  Spool& spool_;
  Worker& worker_;
  const RelayPolicy& policy_;
  std::unique_ptr<Courier> own_local_, own_remote_;  // the real ones, when not given
  Courier* local_;
  Courier* remote_;
  std::map<std::string, Item> items_;
  std::deque<std::string> ready_;
  std::multimap<Clock::time_point, std::string> waiting_;
  std::size_t in_flight_ = 0;
  std::size_t held_bytes_ = 0;  // of the messages at hand
  asio::steady_timer timer_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace relayscope::server
