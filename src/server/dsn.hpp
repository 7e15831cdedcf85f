// RFC 3464 delivery status notifications, pure: the bounce the queue manager
// sends to the sender when recipients failed for good (multipart/report;
// report-type=delivery-status, with the returned message, whole up to a size,
// else its headers only). Never built for the null sender (the caller checks).
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <vector>

namespace relayscope::server {

struct FailedRecipient {
  std::string recipient;   // bare, as the client gave it
  std::string status;      // "5.1.1"
  std::string diagnostic;  // the remote reply ("550 5.1.1 no such user") or our reason
  std::string remote_mta;  // host that answered, may be empty
};

struct DsnInput {
  std::string reporting_mta;  // our hostname
  std::string original_sender;
  std::string queue_id;
  std::time_t arrival = 0;
  std::time_t now = 0;
  std::vector<FailedRecipient> failed;
  std::string original_message;           // CRLF line endings
  std::size_t max_returned = 256 * 1024;  // larger: headers only
};

// The whole message, CRLF line endings, with From: MAILER-DAEMON@host.
std::string build_dsn(const DsnInput& in);

}  // namespace relayscope::server
