// The queue manager: the one owner of deliveries and retries. Each spooled
// message is tried at once, then on the retry schedule; local recipients go
// to their Maildir, the others to the smarthost, else to their domain's MX
// (or the address literal they name). A recipient is finished when delivered
// or failed for good; failures for good (5xx, or too long in the queue) give
// one RFC 3464 DSN to the sender (never to the null sender), queued like any
// message. A message leaves the spool only when every recipient is finished.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
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

// One recipient's end: delivered, failed for good, or to be retried.
struct RecipientOutcome {
  enum class Kind { delivered, permanent, transient } kind = Kind::transient;
  std::string status;  // enhanced status, "2.0.0" / "5.1.1" / "4.4.1"
  std::string text;    // reply or reason
  std::string relay;   // where it went ("maildir", "127.0.0.1:2601")
};

// The wait before retry number `attempts` (1 = after the first failed
// attempt): the schedule's entries in turn, the last one repeating.
std::chrono::milliseconds retry_delay(const std::vector<std::chrono::milliseconds>& schedule,
                                      int attempts);

class QueueManager {
 public:
  QueueManager(asio::any_io_executor executor, QueueSettings settings, Spool& spool, Worker& worker,
               const RelayPolicy& policy, dns::Resolver* resolver, net::ScopeGuard scope);
  ~QueueManager();
  QueueManager(const QueueManager&) = delete;
  QueueManager& operator=(const QueueManager&) = delete;

  void start();
  void stop();
  // A message now in the spool (new, or recovered at start): tried at once.
  void add(const SpoolEntry& entry);
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
    bool flush_requested = false;  // a flush came while busy: retry at once
  };

  asio::awaitable<void> scheduler();
  asio::awaitable<void> attempt(std::string id);
  asio::awaitable<std::map<std::string, RecipientOutcome>> try_recipients(
      const Item& item, const std::string& message);
  asio::awaitable<std::vector<std::pair<std::string, RecipientOutcome>>> deliver_remote(
      const std::string& destination, const std::vector<std::string>& recipients, const Item& item,
      const std::string& message);
  void wake();
  asio::awaitable<void> remove_finished(std::string id);

  asio::any_io_executor executor_;
  QueueSettings settings_;
  Spool& spool_;
  Worker& worker_;
  const RelayPolicy& policy_;
  dns::Resolver* resolver_;
  net::ScopeGuard scope_;
  std::unique_ptr<asio::ssl::context> client_tls_;
  std::map<std::string, Item> items_;
  std::deque<std::string> ready_;
  std::multimap<Clock::time_point, std::string> waiting_;
  std::size_t in_flight_ = 0;
  asio::steady_timer timer_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace relayscope::server
