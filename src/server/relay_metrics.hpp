// The relay's metrics for `relay --metrics ADDR:PORT`, named once here so
// that each call site in the relay is one line. The series live in the
// process's registry (metrics/registry.hpp); updating one is one relaxed
// atomic add, looked up once (function-local statics).
#pragma once

#include <string>

#include "metrics/registry.hpp"

namespace relayscope::server::relay_metrics {

inline metrics::Registry& registry() {
  return metrics::default_registry();
}

// Connections that reached the session (one per SMTP session).
inline metrics::Counter& sessions() {
  static auto& c =
      registry().counter("relayscope_relay_sessions_total", "SMTP sessions the relay has served");
  return c;
}

inline constexpr const char* kMessagesHelp =
    "Messages accepted (queued), and refusals by reason: relay_denied (a recipient the "
    "relay does not serve, counted per recipient), dnsbl (the client is listed), "
    "mail_loop (too many Received: lines), spool (the message could not be kept)";

inline metrics::Counter& accepted() {
  static auto& c = registry().counter("relayscope_relay_messages_total", kMessagesHelp,
                                      {{"result", "accepted"}});
  return c;
}

// reason: relay_denied, dnsbl, mail_loop, spool, unknown_recipient,
// sender_binding, rate_limit (one of kRefusalReasons).
inline metrics::Counter& refused(const std::string& reason) {
  return registry().counter("relayscope_relay_messages_total", kMessagesHelp,
                            {{"result", "refused"}, {"reason", reason}});
}
inline constexpr const char* kRefusalReasons[] = {
    "relay_denied",      "dnsbl",          "mail_loop", "spool",
    "unknown_recipient", "sender_binding", "rate_limit"};

// result: sent, bounced, deferred, expired (the delivery log's status=).
inline metrics::Counter& delivery(const std::string& result) {
  return registry().counter("relayscope_relay_deliveries_total",
                            "Delivery attempts per recipient by result (sent, bounced, deferred, "
                            "expired)",
                            {{"result", result}});
}
inline constexpr const char* kDeliveryResults[] = {"sent", "bounced", "deferred", "expired"};

inline metrics::Gauge& queue_size() {
  static auto& g =
      registry().gauge("relayscope_relay_queue_messages", "Messages in the relay's queue");
  return g;
}

// Every series at zero, so a scrape shows them all from the start.
inline void register_all() {
  sessions();
  accepted();
  for (const char* r : kRefusalReasons) refused(r);
  for (const char* r : kDeliveryResults) delivery(r);
  queue_size();
}

}  // namespace relayscope::server::relay_metrics
