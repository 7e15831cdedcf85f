// The spool: every accepted message, with its envelope, on disk and fsync'd
// before the 250. A message is written to tmp/<id> (worker threads, as it
// streams in; one of at most 64 KiB is written by the round itself, with no
// hand-off of its own), then made durable by the group commit
// (group_commit.hpp): its data synced,
// renamed into queue/<id>, queue/ fsync'd, one round of syncs for every
// message finished meanwhile; removals from queue/ share those rounds. Recipients that are finished
// are appended to queue/<id>.done (fsync'd) so a restart never delivers them again. On start, tmp/
// leftovers (half-written: never answered 250) are deleted, unreadable queue files are moved to
// corrupt/ (kept, never delivered) and queue/ is read back. The files of removed messages wait in
// free/ to be written over by new ones (spool_pool.hpp: no inode per message). state/<id> holds
// advisory retry facts for `relayscope queue` (not fsync'd: losing it loses nothing). Limits: one
// server per spool (pid lock).
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "server/group_commit.hpp"
#include "server/spool_format.hpp"
#include "server/spool_pool.hpp"
#include "server/worker.hpp"

namespace relayscope::server {

struct SpoolEntry {
  SpoolEnvelope envelope;
  std::map<std::string, std::string> done;  // recipient -> how it ended ("delivered ...")
  std::uint64_t size = 0;                   // bytes of the message
  RetryState state;
  // Just accepted (a session's or a DSN): it has no .done or state file.
  bool fresh = false;
};

class Spool {
 public:
  // Creates dir/ and its tmp/, queue/, state/ and free/ when missing.
  static Expected<std::unique_ptr<Spool>> open(
      const std::string& dir, Worker& worker,
      GroupCommit::DataSync data_sync = GroupCommit::DataSync::automatic);
  ~Spool();  // logs what the group commit did

  // At start, before any session: deletes tmp/ leftovers, moves unreadable
  // queue files to corrupt/, returns the queue.
  struct Recovery {
    std::vector<SpoolEntry> entries;
    std::size_t removed_tmp = 0;
    std::vector<std::string> corrupt;  // ids moved to corrupt/
  };
  Expected<Recovery> recover_all();
  // The same, for the server: logs what was removed or moved aside.
  Expected<std::vector<SpoolEntry>> recover(std::size_t& removed_tmp);
  // Read-only view for `relayscope queue list` (no deletion).
  static Expected<std::vector<SpoolEntry>> list(const std::string& dir);

  // Keeps the message; returns its queue id once it is durable. The id is
  // the envelope's when set (from new_id()), else a new one.
  asio::awaitable<Expected<std::string>> store(SpoolEnvelope envelope, std::string message);
  // The same, streamed: begin() writes the envelope and `first` (the
  // Received: header) into tmp/<id>; append() adds the message as it
  // arrives; commit() makes it durable (data sync, rename into queue/, the
  // directory's fsync: one round of the group commit) and returns the id;
  // discard() removes it. One message's steps are awaited one after the other.
  struct Incoming;
  asio::awaitable<Expected<std::shared_ptr<Incoming>>> begin(SpoolEnvelope envelope,
                                                             std::string first);
  asio::awaitable<Status> append(std::shared_ptr<Incoming> message, std::string chunk);
  asio::awaitable<Expected<std::string>> commit(std::shared_ptr<Incoming> message);
  asio::awaitable<void> discard(std::shared_ptr<Incoming> message);
  // A message whole at hand (`content`: the Received: header and the
  // message): the group commit's round creates tmp/<id>, writes it and
  // makes it durable, so a small message costs no hand-off of its own to a
  // worker thread. Returns the id, as commit() does.
  asio::awaitable<Expected<std::string>> commit_whole(SpoolEnvelope envelope, std::string content);

  // Records finished recipients (durably) before anything acts on it.
  asio::awaitable<Status> mark_done(std::string id,
                                    std::vector<std::pair<std::string, std::string>> done);
  // Removes a message whose every recipient is finished (durably: the
  // unlink, or the move of its file into free/, waits for the group
  // commit's next fsync of queue/).
  // `fresh`: it never had a .done or state file, so only queue/<id> goes.
  asio::awaitable<Status> remove(std::string id, bool fresh = false);
  // Records the retry facts of a message (advisory; no fsync).
  asio::awaitable<Status> write_state(std::string id, RetryState state);
  // The message (without the envelope), read from queue/<id>. Blocking.
  Expected<std::string> read_message(const std::string& id) const;
  static Expected<std::string> read_message_file(const std::string& path);

  std::string new_id();
  const std::string& dir() const { return dir_; }
  std::string queue_dir() const { return dir_ + "/queue"; }
  std::string tmp_dir() const { return dir_ + "/tmp"; }
  std::string state_dir() const { return dir_ + "/state"; }
  std::string corrupt_dir() const { return dir_ + "/corrupt"; }
  std::string free_dir() const { return dir_ + "/free"; }
  GroupCommit::Stats commit_stats() const { return group_->stats(); }
  // A new file for a message, to become queue/<id> once durable: a spent
  // one from the pool when it has one, else tmp/<id>. Blocking. A message
  // written whole (head and body known) of a size a spent file may have is
  // written over one in place (and carries its check); any other empties it.
  static Expected<DurableFile> new_file(SpoolFilePool& pool, const std::string& tmp,
                                        const std::string& final_path,
                                        DurableFile::Reuse how = DurableFile::Reuse::emptied);
  // A message written whole (store, commit_whole): its check set in
  // `envelope`, head and body written into new_file() (over a spent file in
  // place when it is no bigger than one). Blocking.
  static Expected<DurableFile> write_whole_file(SpoolFilePool& pool, const std::string& tmp,
                                                const std::string& final_path,
                                                SpoolEnvelope& envelope, std::string_view content);

 private:
  Spool(std::string dir, Worker& worker, GroupCommit::DataSync data_sync,
        std::shared_ptr<SpoolFilePool> pool);
  std::string dir_;
  Worker& worker_;
  std::uint32_t counter_ = 0;
  // Shared with the jobs that take and give its files (they may run on a
  // worker thread after the spool is gone, at shutdown).
  std::shared_ptr<SpoolFilePool> pool_;
  std::unique_ptr<GroupCommit> group_;
};

}  // namespace relayscope::server
