// See received.hpp.
#include "mail/received.hpp"

#include "mail/date.hpp"

namespace relayscope::mail {

std::string received_header(const ReceivedFields& f) {
  std::string h = "Received: from " + (f.helo.empty() ? std::string("unknown") : f.helo) + " ([" +
                  f.client_ip + "])\r\n\tby " + f.by + " (" + f.software + ") with " + f.with +
                  " id " + f.id;
  if (!f.recipient.empty()) {
    h += "\r\n\tfor <" + f.recipient + ">";
  }
  h += "; " + rfc5322_date(f.when) + "\r\n";
  return h;
}

}  // namespace relayscope::mail
