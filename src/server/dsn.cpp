// See dsn.hpp. The message itself is the shared builder's (mail/dsn.hpp);
// this fills it from the queue's facts.
#include "server/dsn.hpp"

#include <fmt/format.h>

#include "mail/dsn.hpp"

namespace relayscope::server {

std::string build_dsn(const DsnInput& in) {
  mail::DsnMessage m;
  m.reporting_mta = in.reporting_mta;
  m.postmaster = "MAILER-DAEMON@" + in.reporting_mta;
  m.original_sender = in.original_sender;
  m.message_id =
      "<" + in.queue_id + ".dsn." + std::to_string(in.now) + "@" + in.reporting_mta + ">";
  m.boundary =
      fmt::format("{}/{}.{}", in.queue_id, static_cast<long long>(in.now), in.reporting_mta);
  m.queue_id = in.queue_id;
  m.date = in.now;
  m.arrival = in.arrival;
  for (const auto& f : in.failed) {
    m.recipients.push_back({"", f.recipient, f.status, f.remote_mta, f.diagnostic, in.now});
  }
  m.original_message = in.original_message;
  m.max_returned = in.max_returned;
  return mail::build_dsn(m);
}

}  // namespace relayscope::server
