// Couriers: what carries a queued message to its recipients. The queue
// manager hands a courier a parcel (one message, some recipients, one
// destination) and gets back one typed outcome per recipient, carrying the
// remote server's reply when there was one. The Maildir courier and the
// SMTP courier (couriers.hpp) are the real ones; tests use a fake.
#pragma once

#include <asio.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/spool.hpp"
#include "server/spool_message.hpp"
#include "smtp/reply.hpp"

namespace relayscope::server {

// One recipient's end: delivered, failed for good, or to be retried.
struct RecipientOutcome {
  enum class Kind { delivered, permanent, transient } kind = Kind::transient;
  std::string status;  // enhanced status, "2.0.0" / "5.1.1" / "4.4.1"
  std::string text;    // the reply as received ("550 5.1.1 no such user"), or our reason
  std::string relay;   // where it went ("maildir", "127.0.0.1:2601"); empty when nowhere
  std::optional<smtp::Reply> reply;  // the remote server's reply, when one came
};

using Outcomes = std::vector<std::pair<std::string, RecipientOutcome>>;

struct Parcel {
  std::string id;  // queue id, for logs
  SpoolEnvelope envelope;
  // Read in pieces from the spool as it goes out (constant memory). Shared,
  // not referenced: a courier's blocking job on a worker thread may outlive
  // the attempt that started it (shutdown), and must not read a message
  // that is gone.
  std::shared_ptr<const SpoolMessage> message;
  std::string destination;  // "local", "smarthost", a domain, or "[address literal]"
  std::vector<std::string> recipients;
};

class Courier {
 public:
  virtual ~Courier() = default;
  // One outcome for each of parcel.recipients; never throws.
  virtual asio::awaitable<Outcomes> carry(Parcel parcel) = 0;
};

}  // namespace relayscope::server
