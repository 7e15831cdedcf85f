// RFC 3464 delivery status notifications, pure: the one builder for the
// relay's bounces and the lab's bouncing hosts (multipart/report;
// report-type=delivery-status: a notification, the delivery-status part, and
// the returned message, whole up to a size, else its headers only).
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <vector>

namespace relayscope::mail {

struct DsnRecipient {
  std::string original_recipient;  // may be empty (then no Original-Recipient field)
  std::string final_recipient;
  std::string status;            // "5.1.1"
  std::string remote_mta;        // host that answered; may be empty
  std::string diagnostic;        // the remote reply ("550 5.1.1 no such user") or our reason
  std::time_t last_attempt = 0;  // 0: no Last-Attempt-Date
};

struct DsnMessage {
  std::string reporting_mta;    // our host name
  std::string postmaster;       // "MAILER-DAEMON@host", the From:
  std::string original_sender;  // bare; the DSN goes there
  std::string message_id;       // "<...>"
  std::string boundary;         // must not occur in the returned message
  std::string queue_id;         // may be empty (then no X-Relayscope-Queue-ID)
  std::time_t date = 0;
  std::time_t arrival = 0;
  std::vector<DsnRecipient> recipients;
  std::string original_message;           // CRLF line endings
  std::size_t max_returned = 256 * 1024;  // larger: headers only
};

// The whole message, CRLF line endings.
std::string build_dsn(const DsnMessage& m);

}  // namespace relayscope::mail
