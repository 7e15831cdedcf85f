// relayscope collect: the MX of the survey's test domain, a policy and a sink
// on the one server session (src/smtpd; see collector_parts.hpp). It accepts
// mail for that domain only (554 5.7.1 otherwise), keeps every message on
// disk (durable before the 250, written off the event loop), and records
// each arrival in the results database: a test message is a delivery, mail
// returned to the sender address is a bounce, anything else is kept and
// counted as unmatched. Every wait has a timeout, every buffer a limit.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/expected.hpp"
#include "store/store.hpp"

namespace relayscope::collect {

struct CollectorOptions {
  std::string listen = "127.0.0.1:2525";  // ADDR:PORT
  std::string domain;                     // our test domain, e.g. collector.relayscope.test
  std::string hostname = "collector.relayscope.test";
  std::string spool_dir;                            // where messages are kept
  std::string sender_local_part = "probe";          // the survey's --mail-from local part
  std::string recipient_local_part = "relay-test";  // the survey's --rcpt-to local part
  std::size_t max_message = 10 * 1024 * 1024;
  std::size_t max_recipients = 100;
  std::size_t max_sessions = 1000;
  std::size_t max_sessions_per_ip = 20;  // one address cannot take every session
  std::chrono::milliseconds command_timeout{60000};
  std::chrono::milliseconds data_timeout{120000};
  // Called on the writer thread before a message's fsync: lets a test play
  // a slow disk. Empty in real use.
  std::function<void()> before_sync;
};

struct CollectorCounts {
  std::int64_t deliveries = 0;
  std::int64_t bounces = 0;
  std::int64_t warnings = 0;  // delay notices: kept, neither delivered nor bounced
  std::int64_t unmatched = 0;
  std::int64_t refused_recipients = 0;
};

class Collector {
 public:
  // Binds the listener (errors: bad address, address in use, no spool dir).
  // The store is shared with the caller's loop thread: arrivals are written
  // there (files and fsyncs still go to the writer thread).
  static Expected<std::unique_ptr<Collector>> start(asio::any_io_executor executor,
                                                    CollectorOptions options, store::Store& store);
  // The collector owns the store: arrivals are written on its writer thread.
  static Expected<std::unique_ptr<Collector>> start(asio::any_io_executor executor,
                                                    CollectorOptions options,
                                                    std::unique_ptr<store::Store> store);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  std::string endpoint() const;  // "ADDR:PORT", the real port
  const CollectorCounts& counts() const;
  std::size_t active_sessions() const;
  void stop();  // on the executor's thread

 private:
  struct State;
  static Expected<std::unique_ptr<Collector>> start_impl(asio::any_io_executor executor,
                                                         CollectorOptions options,
                                                         std::unique_ptr<store::Store> owned,
                                                         store::Store* shared);
  explicit Collector(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace relayscope::collect
