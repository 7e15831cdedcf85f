// The relay's log: spdlog, one line per event, Postfix-like ("<queue id>:
// key=value, ..."; see log_lines.hpp), to standard error, to a file, or to
// syslog (facility mail; under systemd it reaches the journal).
#pragma once

#include <string>

#include "common/expected.hpp"

namespace relayscope::server {

// `to`: "stderr", "file" (then `file` is its path) or "syslog". Called
// again (on SIGHUP) it opens the sink anew, which reopens a file moved away
// by logrotate; on failure the current log stays as it was.
Status setup_logging(const std::string& level, const std::string& to, const std::string& file);

}  // namespace relayscope::server
