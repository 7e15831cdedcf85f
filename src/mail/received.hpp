// The Received: trace line (RFC 5321 section 4.4) every hop that takes a
// message adds: the relay's and the lab's relaying hosts write it the same way.
#pragma once

#include <ctime>
#include <string>

namespace relayscope::mail {

struct ReceivedFields {
  std::string helo;       // what the client called itself; "unknown" when empty
  std::string client_ip;  // without brackets
  std::string by;         // our host name
  std::string software;   // "(relayscope)" comment, e.g. "relayscope"
  std::string with;       // "SMTP", "ESMTP", "ESMTPS", "ESMTPSA" (RFC 3848)
  std::string id;         // queue id
  std::string recipient;  // bare; empty: no "for" clause
  std::time_t when = 0;
};

// Ends with CRLF; folded over three lines.
std::string received_header(const ReceivedFields& f);

}  // namespace relayscope::mail
