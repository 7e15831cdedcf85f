// SIGHUP, as Postfix's `postfix reload`: the whole configuration is read and
// checked again; a bad file is reported and the running configuration kept.
// A good one is applied at once and as a whole (on the network thread, so no
// session sees half of it): local networks and domains, the users file (read
// as the user the relay now runs as) and the log (reopened, so logrotate's
// `mv` works). What cannot change in a running relay (listeners, TLS, the
// spool, limits...) is named in the log, one line each, and left as it was
// until a restart.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "server/policy.hpp"
#include "server/users_file.hpp"

namespace relayscope::server {

struct Reloadable {
  Config& current;      // what runs; updated with what was applied
  RelayPolicy& policy;  // replaced in place
  // Null when the relay started without AUTH (turning it on needs a restart).
  std::function<void(std::shared_ptr<const UsersFile>)> replace_users;
};

// Reads current.path again and applies it; logs every step. Returns false
// when the file was refused (the running configuration is kept).
bool reload_config(Reloadable& r);

// Pure: "KEY: why" for every change between `running` and `next` that only
// a restart applies. `privileged`: the process can still bind ports < 1024.
std::vector<std::string> needs_restart(const Config& running, const Config& next, bool privileged);

}  // namespace relayscope::server
