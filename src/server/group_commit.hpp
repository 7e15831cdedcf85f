// Group commit of the spool's queue/ directory: the files of many messages
// made durable by one round of syncs, as a group-committed journal does. A
// sync thread takes every item handed in since its last round, runs the
// items' other changes (removals), and makes the files durable in queue/:
// either renamed there then one syncfs of the spool's filesystem for data
// and names together (one flush of the disk), or one fdatasync each, the
// renames and one fsync of queue/ (chosen by what each costs, measured as it
// runs); only then it completes each waiter, on its own executor. So no 250
// is sent before a message's data and its directory entry are on disk, while
// one round serves every session that finished its DATA meanwhile; two
// rounds may be in flight at once (two sync threads). A removal, which no
// session waits for, starts no round of its own for a while (may_wait): it
// rides with the next message's. The event loop never waits: it hands an item over (a bounded
// queue; full, the item fails at once) and its coroutine resumes when the round is done. An error
// fails only the items it touches: a file whose data cannot be synced fails
// alone; a failed fsync of queue/ fails its round (the renamed files are
// taken away again, since their names may not be durable) and every later
// round too (the kernel may have dropped what it could not write: a retried
// fsync would wrongly report success).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/durable_file.hpp"
#include "common/expected.hpp"

namespace relayscope::server {

class GroupCommit {
 public:
  // How a round makes its files' data durable.
  enum class DataSync { automatic, each_file, filesystem };

  struct Settings {
    std::string dir;                  // where the files are renamed to (queue/)
    bool fsync = true;                // false: no sync at all (throwaway test setups)
    std::size_t max_pending = 16384;  // items waiting at most; more fail at once
    std::size_t max_round = 1024;     // items in one round at most
    DataSync data_sync = DataSync::automatic;
    // Rounds in flight at once: while one round's sync runs, the next
    // gathers what arrives and starts its own (the disk queues them).
    std::size_t sync_threads = 2;
    // How long an item that may wait waits for others to start a round
    // before it starts one; an idle sync thread looks at the queue this
    // often, so at most twice this.
    std::chrono::milliseconds may_wait{50};
  };

  // The system calls of a round, replaceable by tests (the defaults are the
  // real ones: DurableFile::sync, syncfs(2), sync_directory).
  struct Ops {
    std::function<Status(DurableFile&)> sync_file;
    std::function<Status(int fd)> sync_filesystem;
    std::function<Status(const std::string& dir)> sync_dir;
  };
  static Ops system_ops();

  // What the rounds did, for the metrics, the logs and the tests.
  struct Stats {
    std::uint64_t rounds = 0;
    std::uint64_t items = 0;
    std::uint64_t file_syncs = 0;        // fdatasync calls
    std::uint64_t filesystem_syncs = 0;  // syncfs calls
    std::uint64_t dir_syncs = 0;
    std::uint64_t failed = 0;
    std::size_t largest_round = 0;
  };

  // One change made durable by a round. `file` (may be null) is synced and
  // renamed into the directory; `before` (may be empty) runs first on the
  // sync thread: the last write of a file (its size), the whole of a small
  // file (created and written there: `file` is empty until then), or a
  // change of its own in the directory (an unlink) that the round's fsync
  // makes durable.
  struct Item {
    std::shared_ptr<DurableFile> file;
    std::function<Status()> before;
    // Nobody is kept waiting on it (a removal): it starts no round of its
    // own before `Settings::may_wait` has passed, and rides with the next
    // round that others start meanwhile, so that a round's syncs serve
    // the messages being accepted rather than a removal alone.
    bool may_wait = false;
  };

  explicit GroupCommit(Settings settings, Ops ops = system_ops());
  ~GroupCommit();  // finishes the rounds handed in, then joins
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Hands the item to the next round; resumes the awaiting coroutine on its
  // own executor once the round made it durable (or with the error that
  // stopped it). Not a coroutine itself: the item is handed over once.
  asio::awaitable<Status> commit(Item item) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(Status)>(
        [this](auto handler, Item i) {
          auto ex = asio::get_associated_executor(handler);
          push(std::move(i), std::make_unique<TypedWaiter<decltype(handler), decltype(ex)>>(
                                 std::move(handler), std::move(ex)));
        },
        asio::use_awaitable, std::move(item));
  }

  Stats stats() const;

 private:
  struct Waiter {
    virtual ~Waiter() = default;
    virtual void complete(Status s) = 0;  // posts the result to the caller
  };
  template <class Handler, class Executor>
  struct TypedWaiter : Waiter {
    TypedWaiter(Handler h, Executor e) : handler(std::move(h)), ex(std::move(e)) {}
    Handler handler;
    Executor ex;
    void complete(Status s) override {
      asio::post(ex, [h = std::move(handler), s = std::move(s)]() mutable { std::move(h)(s); });
    }
  };
  struct Pending {
    Item item;
    std::unique_ptr<Waiter> waiter;
    Status result = Ok{};
    std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
  };

  void push(Item item, std::unique_ptr<Waiter> waiter);
  void loop();
  void run_round(std::vector<Pending>& round);
  // Renames then one syncfs for data and names (see the .cpp for why that
  // keeps the guarantee); falls back to each file when the syncfs fails.
  void names_with_data(std::vector<Pending>& round, std::vector<Pending*>& files);
  // fdatasync of each file still in the round; a failure fails that file.
  void sync_each_file(std::vector<Pending*>& files);
  // The fsync of queue/ after the renames; a failure fails the round (sticky).
  void sync_directory_of(std::vector<Pending>& round);
  // A sync failed for another round meanwhile (with two rounds in flight):
  // this round's success is not trusted either; its names are taken away.
  void fail_if_broken(std::vector<Pending>& round);
  std::string broken() const;
  bool use_filesystem_sync(std::size_t files);

  Settings settings_;
  Ops ops_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::size_t urgent_ = 0;  // items in queue_ that may not wait
  bool stopping_ = false;
  std::string broken_;  // the first failed fsync of the directory, sticky
  Stats stats_;
  // Measured costs (microseconds, moving averages) for DataSync::automatic.
  double file_sync_us_ = 0;
  double filesystem_sync_us_ = 0;
  std::uint64_t rounds_since_probe_ = 0;
  std::vector<std::thread> threads_;
  int dir_fd_ = -1;  // settings_.dir, for syncfs(2)
};

}  // namespace relayscope::server
