// The lab's outbound mail: what relaying hosts pass on and the bounces that
// bouncing hosts send. Each job looks up the mail host of the recipient's
// domain with the project's resolver, asking the lab's own DNS server, and
// delivers there by SMTP (client::deliver) on the lab's port, from the
// relaying host's own address. Bounded: at most max_in_flight jobs at once,
// at most max_queued waiting (more are recorded as failed, not kept), a few
// tries with a growing pause for transient failures. Results go to the
// ledger. Runs on the lab's executor; submit() only from there.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "dns/resolver.hpp"
#include "lab/ledger.hpp"
#include "lab/outbound_job.hpp"
#include "lab/plan.hpp"
#include "net/scope_guard.hpp"

namespace relayscope::lab {

struct OutboxOptions {
  std::string dns_server;                    // "127.0.0.1:5353": the lab's own
  std::uint16_t port = 2525;                 // where MX hosts listen (the lab's port)
  std::chrono::milliseconds timeout{10000};  // each SMTP wait
  std::size_t max_in_flight = 256;
  std::size_t max_queued = 20000;
  int tries = 3;
  std::chrono::milliseconds retry_delay{1000};  // doubled after each try
  std::uint64_t seed = 1;
};

class Outbox : public std::enable_shared_from_this<Outbox> {
 public:
  Outbox(asio::any_io_executor executor, std::shared_ptr<const LabPlan> plan,
         std::shared_ptr<Ledger> ledger, OutboxOptions options,
         std::chrono::steady_clock::time_point started);

  void submit(OutboundJob job);
  // No new jobs start; waiting ones are recorded as failed ("lab stopped").
  void stop();
  // Jobs queued or running (any thread).
  std::size_t pending() const { return pending_.load(); }

 private:
  void pump();
  asio::awaitable<void> run(std::shared_ptr<Outbox> self, OutboundJob job);
  void finish(const OutboundJob& job, bool ok, const std::string& detail);
  std::int64_t now_ms() const;

  asio::any_io_executor executor_;
  std::shared_ptr<const LabPlan> plan_;
  std::shared_ptr<Ledger> ledger_;
  OutboxOptions options_;
  std::chrono::steady_clock::time_point started_;
  net::ScopeGuard scope_;
  std::optional<dns::Resolver> resolver_;
  std::string resolver_error_;
  std::deque<OutboundJob> queue_;
  std::size_t in_flight_ = 0;
  std::atomic<std::size_t> pending_{0};
  bool stopped_ = false;
};

}  // namespace relayscope::lab
