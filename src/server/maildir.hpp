// Local delivery into a Maildir (root/domain/user/{tmp,new,cur}): the message
// is written to tmp/, fsync'd, renamed into new/, and new/ is fsync'd through
// the worker's batch. Blocking: runs on a worker thread. Any user of a local
// domain gets a Maildir on first delivery (no user list: documented choice).
#pragma once

#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "server/policy.hpp"
#include "server/spool_message.hpp"
#include "server/worker.hpp"

namespace relayscope::server {

// Returns the path of the delivered file under new/.
Expected<std::string> deliver_to_maildir(const std::string& root, const LocalMailbox& box,
                                         std::string_view prefix, std::string_view message,
                                         const std::string& hostname, Batch& batch);
// The same, copying a spooled message a piece at a time (constant memory).
Expected<std::string> deliver_to_maildir(const std::string& root, const LocalMailbox& box,
                                         std::string_view prefix, const SpoolMessage& message,
                                         const std::string& hostname, Batch& batch);

// A Maildir file name that no other delivery shares (time, pid, counter, host).
std::string maildir_unique_name(const std::string& hostname);

}  // namespace relayscope::server
