// The NOQUEUE: reject: line for a command the session refused (smtpd's
// command_refused hook), shared by the relay and the collector: Postfix's
// fields from what the session knows when it refuses.
#pragma once

#include <string>

#include "smtpd/session.hpp"

namespace relayscope::server {

std::string noqueue_line(const smtpd::SessionView& s, const smtpd::CommandRefusal& r);

}  // namespace relayscope::server
