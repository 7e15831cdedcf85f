// Started as root with [server] user set: after the listeners are bound, the
// spool and the mailboxes are handed to that user and the process becomes it
// (setgid, initgroups, setuid; checked: regaining root must fail). Not root:
// nothing happens.
#pragma once

#include <string>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::server {

// `own`: directories to give to the user first (recursively).
Status drop_privileges(const std::string& user, const std::vector<std::string>& own);

// Raises the open-files limit to its hard limit (many idle connections).
void raise_file_limit();

}  // namespace relayscope::server
