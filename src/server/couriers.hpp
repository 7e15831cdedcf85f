// The real couriers: the Maildir courier writes each local recipient's copy
// through the worker (blocking file work off the network thread); the SMTP
// courier finds a destination's hosts (routing.hpp) and tries them in order
// with the one SMTP client, moving on to the next MX when a host gave no
// transaction, and keeps connections open a short while for the next
// message to the same host (client/connection_cache.hpp). Both read the message from the spool a
// piece at a time as it goes out (the SMTP courier only once a server said 354).
#pragma once

#include <asio/ssl.hpp>
#include <memory>
#include <string>

#include "client/connection_cache.hpp"
#include "net/scope_guard.hpp"
#include "server/config.hpp"
#include "server/courier.hpp"
#include "server/policy.hpp"
#include "server/worker.hpp"

namespace relayscope::dns {
class Resolver;
}

namespace relayscope::server {

class MaildirCourier : public Courier {
 public:
  MaildirCourier(std::string mailbox_root, std::string hostname, const RelayPolicy& policy,
                 Worker& worker)
      : root_(std::move(mailbox_root)),
        hostname_(std::move(hostname)),
        policy_(policy),
        worker_(worker) {}
  asio::awaitable<Outcomes> carry(Parcel parcel) override;

 private:
  std::string root_;
  std::string hostname_;
  const RelayPolicy& policy_;
  Worker& worker_;
};

class SmtpCourier : public Courier {
 public:
  // The worker reads the message's pieces from the spool as they go out.
  // Connections wait between messages to the same server (up to one per
  // delivery in flight: the queue's concurrency).
  SmtpCourier(asio::any_io_executor executor, std::string hostname, DeliveryConfig delivery,
              dns::Resolver* resolver, net::ScopeGuard scope, Worker& worker);
  asio::awaitable<Outcomes> carry(Parcel parcel) override;

 private:
  DeliveryConfig delivery_;
  dns::Resolver* resolver_;
  net::ScopeGuard scope_;
  Worker& worker_;
  client::ClientOptions options_;
  std::unique_ptr<asio::ssl::context> tls_;
  client::ConnectionCache cache_;
};

}  // namespace relayscope::server
