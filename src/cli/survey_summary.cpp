// The end-of-run summary of `relayscope survey` (the funnel, the outcomes in
// the IMC's order, time, greylisting, local failures) and the exit status it
// implies: 0 done, 1 hosts left unprobed by a failure, 130 interrupted.
#include "cli/survey_summary.hpp"

#include <cstdio>

#include "cli/commands.hpp"
#include "report/model.hpp"

namespace relayscope::cli {

int print_survey_summary(const survey::SurveySummary& s, const std::string& db, bool prepare_only) {
  using report::plural_count;
  std::printf(
      "run %lld: %s, %s, %s, %lld excluded, %lld sampled\n", static_cast<long long>(s.run_id),
      plural_count(s.funnel.names, "name", "names").c_str(),
      plural_count(s.funnel.unique_domains, "unique mail host", "unique mail hosts").c_str(),
      plural_count(s.funnel.resolved_hosts, "resolved host", "resolved hosts").c_str(),
      static_cast<long long>(s.funnel.excluded), static_cast<long long>(s.funnel.sampled));
  if (s.no_route > 0) {
    std::printf(
        "%lld IPv6 addresses dropped before the sample: no route to them from here "
        "(counted as excluded, never an outcome)\n",
        static_cast<long long>(s.no_route));
  }
  // The IMC's order (CONNECT ... OK), as in the report; anything else after.
  for (const auto& [outcome, n] : report::in_outcome_order(s.outcomes)) {
    std::printf("%-8s %lld\n", outcome.c_str(), static_cast<long long>(n));
  }
  std::printf("time: %.1f s reading and resolving, %.1f s probing %lld hosts (%.0f probes/s)\n",
              s.preparing_seconds, s.probing_seconds, static_cast<long long>(s.probed_now),
              s.probing_seconds > 0 ? static_cast<double>(s.probed_now) / s.probing_seconds : 0.0);
  if (s.greylist_retried > 0) {
    std::printf(
        "greylisting: %lld hosts answered 4xx at RCPT TO and were probed again after "
        "--greylist-retry (report --hosts: greylisted)\n",
        static_cast<long long>(s.greylist_retried));
  }
  if (s.local_failures > 0) {
    std::printf(
        "local failures: %lld probes could not connect for a shortage of our own (open files, "
        "source ports) and were tried again later; never counted as a host's outcome\n",
        static_cast<long long>(s.local_failures));
  }
  if (s.processes_lost > 0) {
    std::printf(
        "lost: %lld probing processes died before they were done; their unfinished hosts are "
        "unprobed: `relayscope survey --db %s --resume %lld` probes them\n",
        static_cast<long long>(s.processes_lost), db.c_str(), static_cast<long long>(s.run_id));
    return exit_failure;
  }
  if (s.given_up > 0) {
    std::printf(
        "gave up: %lld hosts left unprobed after repeated local failures; lower "
        "--concurrency or raise the open-files limit, then `relayscope survey --db %s "
        "--resume %lld`\n",
        static_cast<long long>(s.given_up), db.c_str(), static_cast<long long>(s.run_id));
    return exit_failure;
  }
  if (s.interrupted) {
    std::printf("interrupted: finish it with `relayscope survey --db %s --resume %lld`\n",
                db.c_str(), static_cast<long long>(s.run_id));
    return exit_interrupted;
  }
  if (prepare_only) {
    // Contract: the run's id alone on the last line, for scripts.
    std::printf("prepared: workers finish it with `relayscope survey --db URI --join %lld`\n%lld\n",
                static_cast<long long>(s.run_id), static_cast<long long>(s.run_id));
  }
  return exit_ok;
}

}  // namespace relayscope::cli
