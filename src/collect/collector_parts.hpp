// The collector's plug-ins to the one session (src/smtpd): its policy (mail
// for its one domain only, judged by smtp::resolve_route so that no spelling
// makes it a relay; anything else 554 5.7.1) and its sink (the message
// streamed to a file made durable off the event loop, then classified and
// recorded as an arrival). The sink's disk and database work runs on one
// writer thread, so a slow disk never stalls the sessions.
#pragma once

#include <asio.hpp>
#include <memory>
#include <string>

#include "collect/collector.hpp"
#include "smtpd/session.hpp"
#include "store/store.hpp"

namespace relayscope::collect {

// The session's settings for the collector.
smtpd::SessionSettings collector_settings(const CollectorOptions& options);

class CollectorPolicy final : public smtpd::SessionPolicy {
 public:
  CollectorPolicy(std::string domain, CollectorCounts& counts);
  std::optional<smtp::Reply> check_recipient(const smtpd::SessionView& s,
                                             const smtp::Path& rcpt) override;
  // NOQUEUE: reject: lines, as the relay logs them.
  void command_refused(const smtpd::SessionView& s, const smtpd::CommandRefusal& r) override;

 private:
  std::string domain_;  // lower case
  CollectorCounts& counts_;
};

class CollectorSink final : public smtpd::MessageSink {
 public:
  // `owned` set: the store is used on the writer thread only; else `shared`
  // (used by others on the loop thread too) is written on the loop thread.
  CollectorSink(const CollectorOptions& options, std::unique_ptr<store::Store> owned,
                store::Store* shared, CollectorCounts& counts);
  ~CollectorSink() override;
  asio::awaitable<std::unique_ptr<smtpd::MessageWriter>> open(
      const smtpd::ClientInfo& client, const smtpd::Envelope& envelope) override;

  struct Context;

 private:
  std::shared_ptr<Context> context_;
};

}  // namespace relayscope::collect
