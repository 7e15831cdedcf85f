// `survey --processes N`: one process may hold at most the open-files hard
// limit of descriptors (20,000 on many machines), so more probes in flight
// than that need several processes. This parent prepares the run as ever
// (read, resolve, sample, store), then starts N probing children
// (prober_child.hpp: /proc/self/exe again, a pipe each way) and hands them
// the hosts in batches as they ask, so that no child idles while another
// still has a long queue. Children never write the store: each finished
// probe comes back whole over the pipe and this process writes it (its one
// ProbeWriter thread, in batches), and is the one place for the progress
// line, --jsonl, --metrics (the children's counts summed into one endpoint),
// the summary and the exit status. Ctrl-C or SIGTERM here is forwarded as a
// stop; a child that dies is reported and its unfinished hosts stay
// unprobed (--resume probes them); a child that stops answering is killed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "survey/record_codec.hpp"
#include "survey/runner.hpp"

namespace relayscope::survey {

// Descriptors a probing process keeps for itself (store, DNS, pipes), as
// the scheduler does: the rest of the open-files limit is for probes.
inline constexpr std::uint64_t open_files_reserve = 64;

// How many processes --concurrency needs under an open-files limit: one
// unless the concurrency exceeds what one process may hold.
std::size_t processes_needed(std::size_t concurrency, std::uint64_t open_files_limit);

// Child i's share of `total` over n children (the first ones take the rest).
std::size_t share_of(std::size_t total, std::size_t n, std::size_t i);

// The parent's queue of hosts not yet handed out. With `keep_together`
// (--mx-fallback), hosts that share an address (one's fallback MX is
// another's own address, or two have a fallback in common) form a group,
// handed out whole in one batch, so to one child: that child's address
// claims (address_claims.hpp) then keep "one connection at a time to any
// one address" across all the children, as one process keeps it, with no
// round trip to the parent before each fallback. The price: a group larger
// than the batch asked for comes whole all the same (a backup MX shared by
// many domains puts all of them on one child).
class HostHandout {
 public:
  explicit HostHandout(std::vector<ProbeTarget> targets, bool keep_together = false);
  // Up to n hosts; `last` once none is left (or after stop()).
  wire::HostBatch take(std::size_t n);
  // Hands out nothing more: what is left stays unprobed.
  void stop() { stopped_ = true; }
  std::size_t handed_out() const { return next_; }
  std::size_t total() const { return targets_.size(); }

 private:
  std::vector<ProbeTarget> targets_;
  // keep_together: for each position, the one past its group's last host.
  std::vector<std::size_t> group_end_;
  std::size_t next_ = 0;
  bool stopped_ = false;
};

class ProcessPool : public TargetProber {
 public:
  // `exe`: the program to start as a child (this one).
  explicit ProcessPool(std::size_t processes, std::string exe = "/proc/self/exe")
      : processes_(processes), exe_(std::move(exe)) {}
  asio::awaitable<Status> probe(const SurveyOptions& options, store::Store& store,
                                std::int64_t run_id, std::vector<ProbeTarget> targets,
                                SurveySummary& summary, const bool& stop) override;

 private:
  std::size_t processes_;
  std::string exe_;
};

}  // namespace relayscope::survey
