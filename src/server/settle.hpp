// The queue's decision after an attempt, pure: from each recipient's outcome
// and whether the message has been queued too long, which recipients are
// delivered, which failed for good (and go into the DSN), which wait for a
// retry. Too long in the queue turns a transient failure into a permanent one
// (RFC 3463 X.4.7, "delivery time expired").
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "server/courier.hpp"
#include "server/dsn.hpp"

namespace relayscope::server {

struct Settlement {
  // Finished recipients and their record for the spool's .done file;
  // the failed ones are recorded only once their DSN is queued.
  std::vector<std::pair<std::string, std::string>> delivered;
  std::vector<FailedRecipient> failed;  // for the DSN (Remote-MTA without ":port")
  std::vector<std::string> retry;
  std::string last_error;  // the last transient failure, for `relayscope queue`
  // What became of each recipient, for the log: "sent", "bounced", "expired", "deferred".
  std::vector<std::pair<std::string, std::string>> words;
};

Settlement settle(const Outcomes& outcomes, bool expired);

// The "done" record of a failed recipient.
std::string failed_record(const FailedRecipient& f);

}  // namespace relayscope::server
