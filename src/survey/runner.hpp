// The whole survey (DESIGN.md pipeline): targets -> domains -> MX/A
// resolution -> hosts -> seeded sample -> probes -> the store. Probes run as
// coroutines on one event loop, `concurrency` at a time, under a global
// connection rate limit, never two at once to one address. Results are
// written in batches; Ctrl-C stops cleanly (probes in flight finish and are
// recorded) and `resume` finishes the run without probing a recorded host
// again, first redoing the preparation if the run was stopped before it.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "net/scope_guard.hpp"
#include "store/store.hpp"
#include "survey/observer.hpp"
#include "survey/probe.hpp"

namespace relayscope::survey {

struct SurveyOptions;
struct SurveySummary;

// Hands out the hosts to probe a few at a time instead of a list given at
// the start: a probing child of `survey --processes` asks its parent
// (process_pool.hpp), so that the processes' tails stay even.
class HostFeed {
 public:
  virtual ~HostFeed() = default;
  // The next host; nullopt once none is left or the run stops.
  virtual asio::awaitable<std::optional<ProbeTarget>> next() = 0;
};

// Probes a prepared run's targets elsewhere than on this event loop
// (`survey --processes N`: N child processes, this one the writer); fills
// the summary's probe figures as the in-process scheduler would.
class TargetProber {
 public:
  virtual ~TargetProber() = default;
  virtual asio::awaitable<Status> probe(const SurveyOptions& options, store::Store& store,
                                        std::int64_t run_id, std::vector<ProbeTarget> targets,
                                        SurveySummary& summary, const bool& stop) = 0;
};

struct SurveyOptions {
  std::string targets_file;
  bool domains_mode = false;             // targets are domains or IPs, not addresses
  std::vector<std::string> dns_servers;  // "HOST:PORT", always named
  std::size_t sample = 0;                // 0: every resolved host
  std::uint64_t seed = 1;
  std::string label;
  ProbeOptions probe;
  std::size_t concurrency = 100;
  double rate = 0;                 // new connections per second, 0: unlimited
  std::vector<std::string> scope;  // CIDRs; empty: any
  // --exclude (repeatable): CIDRs and files of CIDRs never touched, all
  // read before the first packet. The special-purpose ranges are excluded
  // besides (special_purpose.hpp).
  std::vector<std::string> exclude;  // CIDRs never touched
  std::vector<std::string> exclude_files;
  std::chrono::milliseconds dns_timeout{3000};
  int dns_tries = 2;
  std::size_t resolve_concurrency = 500;
  bool progress = false;      // a progress line on the terminal
  bool prepare_only = false;  // read, resolve, sample and store the hosts; probe nothing
  // --family 4|6|both: the address families probed. With both, each address
  // of a mail host is a host (a row) of its own.
  bool want_v4 = true;
  bool want_v6 = false;
  // A host answering 4xx at RCPT TO is probed once more after this delay
  // (greylist.hpp); 0: off. Just past Postgrey's 5 minutes.
  std::chrono::milliseconds greylist_retry{6 * 60 * 1000};
  // Given on the command line: on --resume it replaces the run's own (when
  // the retries are due changes nothing of what is probed). Not stored.
  bool greylist_retry_given = false;
  ProbeObserver* observer = nullptr;  // --metrics, --jsonl (not part of the run's record)
  // Not part of the run's record either (survey --processes):
  HostFeed* feed = nullptr;        // set: hosts come from it, not from the run's list
  TargetProber* prober = nullptr;  // set: the prepared hosts are probed by it
};

struct SurveySummary {
  std::int64_t run_id = 0;
  store::Funnel funnel;
  std::map<std::string, std::int64_t> outcomes;
  std::int64_t probed_now = 0;
  bool interrupted = false;
  // Probes that failed for a shortage of our own (no descriptor, no source
  // port) and were tried again; hosts given up after too many such tries
  // (left unprobed, so the run is not done: --resume finishes it).
  std::int64_t local_failures = 0;
  std::int64_t given_up = 0;
  // Hosts that answered 4xx at RCPT TO and were probed again (--greylist-retry).
  std::int64_t greylist_retried = 0;
  // Wall time of the two phases: reading targets and resolving them (with
  // the sample), then probing. Probes per second are probed_now / probing.
  double preparing_seconds = 0;
  double probing_seconds = 0;
  // IPv6 addresses dropped before the sample because this machine has no
  // route to them (counted among funnel.excluded too); never an outcome.
  std::int64_t no_route = 0;
  // Probing processes (survey --processes) that died before they were done:
  // their unfinished hosts stay unprobed (--resume probes them); exit 1.
  std::int64_t processes_lost = 0;
};

// "4", "6" or "both" for the options' families, and back (false: no such).
std::string family_name(const SurveyOptions& options);
bool set_family(SurveyOptions& options, const std::string& name);

// Serialises options for the run's record, and back for `--resume`.
std::string options_to_json(const SurveyOptions& options);
Expected<SurveyOptions> options_from_json(const std::string& json);

// A new run whose scope reaches beyond the special-purpose ranges (the real
// Internet) must name itself: --helo, --mail-from and --rcpt-to given, not
// the built-in relayscope.invalid ones that servers refuse. The error names
// the options.
Status check_identity(const SurveyOptions& options);

// Checks what can be wrong in the options without the network or a store
// (DNS server specs, scope CIDRs, the exclusion file); the error names the
// option. Gives the run's scope: --scope, less the exclusions. run_survey
// checks this too, before it creates a run.
Expected<net::ScopeGuard> check_options(const SurveyOptions& options);

// Runs a new survey, or finishes run `resume_run`, on the caller's event
// loop. `stop` is polled: when it turns true no new probe starts, those in
// flight run to their end and are recorded, and the run is marked
// interrupted unless every host got its probe. Stopped while resolving, the
// run is left unprepared and resume prepares it again.
// Probes `targets` of prepared run `run_id` on this event loop (options.feed
// set: the hosts it hands out), each finished probe to `store` through a
// writer thread; the run itself is neither finished nor marked. A probing
// child of `survey --processes` runs this with a store that forwards the
// probes to its parent.
asio::awaitable<Expected<SurveySummary>> probe_targets(const SurveyOptions& options,
                                                       store::Store& store, std::int64_t run_id,
                                                       std::vector<ProbeTarget> targets,
                                                       const bool& stop);

asio::awaitable<Expected<SurveySummary>> run_survey(SurveyOptions options, store::Store& store,
                                                    std::optional<std::int64_t> resume_run,
                                                    const bool& stop);

}  // namespace relayscope::survey
