// The relay's start-up check, minus binding: everything `relay` would refuse
// to start with (duplicate listeners, a TLS key that does not match its
// certificate, files the relay cannot read as the user it runs as, a users
// file that is missing or malformed), and warnings for settings that open the
// relay or look like mistakes. Shared by `relayscope check-config` and by
// the relay itself at start-up and on SIGHUP, so the two never disagree.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "server/config.hpp"

namespace relayscope::server {

// Who the relay runs as once started by the current process: root with
// [server] user set drops to that user; anyone else stays who they are.
struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
  std::string name;
  bool started_as_root = false;
};

// From the current process and the config (errors: an unknown `user`).
Expected<RunAs> run_as(const Config& c);

struct ConfigReport {
  std::vector<std::string> errors;    // "FILE:LINE: what is wrong"
  std::vector<std::string> warnings;  // "FILE:LINE: warning: what looks wrong"
  bool ok() const { return errors.empty(); }
};

// The pure part: duplicate listeners, and the warnings that need no file
// system (0.0.0.0/0, ::/0, host bits set, root without `user`).
void check_static(const Config& c, bool started_as_root, ConfigReport& out);

// Everything: check_static plus the files (certificate and key readable and
// matching, users file present, readable by the run-as user and well
// formed, log file's directory writable by the run-as user).
ConfigReport check_config(const Config& c);

// What SIGHUP checks, as the user the relay now runs as: check_static
// without the root warning, the users file and the log; not TLS (kept from
// start-up: the key may be readable by root only).
ConfigReport check_for_reload(const Config& c);

// Whether `who` may read (mode 4) or write (mode 2) `path`, judged from the
// file's and its parents' modes (root may do anything; directories on the
// way must be searchable).
bool may_access(const std::string& path, const RunAs& who, int mode);

}  // namespace relayscope::server
