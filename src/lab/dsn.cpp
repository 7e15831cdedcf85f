// See dsn.hpp. The messages are the shared builders' (mail/); this fills
// them from the lab's facts.
#include "lab/dsn.hpp"

#include "mail/date.hpp"
#include "mail/dsn.hpp"
#include "mail/received.hpp"

namespace relayscope::lab {

std::string rfc5322_date(std::time_t t) {
  return mail::rfc5322_date(t);
}

std::string received_header(const ReceivedFields& f) {
  return mail::received_header({f.helo, f.client_ip, f.by, "relayscope lab",
                                f.esmtp ? "ESMTP" : "SMTP", f.id, f.recipient, f.when});
}

std::string build_dsn(const DsnFields& f) {
  mail::DsnMessage m;
  m.reporting_mta = f.reporting_mta;
  m.postmaster = f.postmaster;
  m.original_sender = f.original_sender;
  m.message_id = f.message_id;
  m.boundary = f.boundary;
  m.date = f.when;
  m.arrival = f.when;
  m.recipients.push_back({f.original_recipient, f.final_recipient, f.status, "", f.diagnostic, 0});
  m.original_message = f.original_message;
  m.max_returned = f.max_returned;
  return mail::build_dsn(m);
}

}  // namespace relayscope::lab
