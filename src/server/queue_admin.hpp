// The operator's queue tools (`relayscope queue show|delete|hold|release`),
// as Postfix's postcat and postsuper: they work with the relay running or
// not, and only ever rename or unlink whole files, so the spool is never
// left half-changed. A held message is moved (with its .done record) to
// <spool>/hold/, which the relay never reads; release moves it back, leaves a
// marker in <spool>/released/ and the running relay picks it up on its next
// flush (SIGUSR1). A message deleted or
// held while the relay is delivering it finishes that one attempt; the relay
// then finds it gone and forgets it (queue_manager.cpp "gone from the spool").
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"
#include "server/spool.hpp"

namespace relayscope::server {

// A queue id as Spool::new_id() makes them: 1-64 of [0-9A-Za-z] (never a
// path: no '/', no '.').
bool valid_queue_id(std::string_view id);

struct QueuedFile {
  std::string path;  // <spool>/queue/<id> or <spool>/hold/<id>
  bool held = false;
};

// Where the message is, queued or held; an error naming the id otherwise.
Expected<QueuedFile> find_queued(const std::string& spool_dir, const std::string& id);

// The envelope records and the message, as postcat prints them.
Expected<std::string> show_queued(const std::string& spool_dir, const std::string& id);

Status delete_queued(const std::string& spool_dir, const std::string& id);
// Every message, queued and held; returns the ids deleted.
Expected<std::vector<std::string>> delete_all_queued(const std::string& spool_dir);
Status hold_queued(const std::string& spool_dir, const std::string& id);
Status release_held(const std::string& spool_dir, const std::string& id);
// For the running relay (on SIGUSR1): the ids released since the last
// call, whose markers (<spool>/released/<id>) it removes.
std::set<std::string> take_released(const std::string& spool_dir);
// The held messages (for `queue list`).
Expected<std::vector<SpoolEntry>> list_held(const std::string& spool_dir);

}  // namespace relayscope::server
