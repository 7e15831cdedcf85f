// `relayscope relay --config FILE`: puts the pieces together and runs until
// SIGTERM/SIGINT. SIGUSR1 (sent by `relayscope queue flush`) retries the
// queue now; SIGHUP reloads the configuration (reload.hpp). Start-up order: log, pid file
// lock, TLS and users (read as root), bind, drop privileges, spool recovery,
// queue manager, then accept.
#pragma once

#include "server/config.hpp"

namespace relayscope::server {

// Returns the process exit status (0, 1 failure, 2 configuration).
int run_relay(const Config& start_config);

}  // namespace relayscope::server
