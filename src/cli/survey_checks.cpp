// `relayscope survey`'s checks of its options: usage errors found before
// the database is opened, so that a mistyped option leaves no run behind.
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/commands.hpp"
#include "cli/survey_args.hpp"
#include "common/cidr.hpp"
#include "common/open_files.hpp"
#include "server/config.hpp"
#include "store/store.hpp"
#include "survey/process_pool.hpp"
#include "survey/test_message.hpp"

namespace relayscope::cli {

// --processes: "auto" (as many as the open-files limit needs for the
// concurrency) or N; 0 on a usage error (printed).
std::size_t resolve_processes(const SurveyArgs& a) {
  if (a.processes == "auto") {
    return survey::processes_needed(a.options.concurrency, raise_open_files_limit());
  }
  std::size_t n = 0;
  try {
    std::size_t used = 0;
    n = std::stoul(a.processes, &used);
    if (used != a.processes.size()) n = 0;
  } catch (const std::exception&) {
    n = 0;
  }
  if (n < 1 || n > 1024) {
    std::fprintf(stderr, "relayscope survey: --processes must be auto or between 1 and 1024\n");
    return 0;
  }
  return n;
}

int check_survey_args(SurveyArgs& a) {
  auto& o = a.options;
  const bool postgres = store::is_postgres_uri(a.db);
  if (a.join && (a.resume || a.prepare_only || !o.targets_file.empty())) {
    std::fprintf(stderr,
                 "relayscope survey: --join RUN takes the run's own targets and parameters: "
                 "not with --targets, --resume or --prepare-only\n");
    return exit_usage;
  }
  if (a.lease_seconds < 1 || a.lease_seconds > 86400) {
    std::fprintf(stderr, "relayscope survey: --lease must be between 1 and 86400 seconds\n");
    return exit_usage;
  }
  for (const auto& text : a.sources) {
    std::error_code ec;
    auto addr = asio::ip::make_address(text, ec);
    if (ec) {
      std::fprintf(stderr, "relayscope survey: --source: not an IP address: '%s'\n", text.c_str());
      return exit_usage;
    }
    o.probe.sources.push_back(addr);
  }
  // On SQLite a worker is the one process that finishes the run: --resume.
  if (a.join && !postgres) a.resume = std::exchange(a.join, std::nullopt);
  o.prepare_only = a.prepare_only;
  if (!a.resume && !a.join && o.targets_file.empty()) {
    std::fprintf(stderr,
                 "relayscope survey: --targets FILE is required (or --resume RUN, --join RUN)\n");
    return exit_usage;
  }
  if (!a.resume && !a.join && o.dns_servers.empty()) {
    std::fprintf(stderr,
                 "relayscope survey: --dns HOST:PORT is required: relayscope never uses the "
                 "system's resolver configuration\n");
    return exit_usage;
  }
  if (a.timeout_seconds <= 0 || a.timeout_seconds > 3600) {
    std::fprintf(stderr, "relayscope survey: --timeout must be between 0 and 3600 seconds\n");
    return exit_usage;
  }
  if (o.concurrency == 0) {
    std::fprintf(stderr, "relayscope survey: --concurrency must be at least 1\n");
    return exit_usage;
  }
  auto host_timeout = server::parse_duration(a.host_timeout);
  if (!host_timeout || host_timeout->count() <= 0) {
    std::fprintf(stderr, "relayscope survey: --host-timeout: %s\n",
                 host_timeout ? "must be more than 0" : host_timeout.error().message.c_str());
    return exit_usage;
  }
  o.probe.host_timeout = std::chrono::milliseconds(host_timeout->count());
  auto greylist_retry = server::parse_duration(a.greylist_retry);
  if (!greylist_retry || greylist_retry->count() > 24LL * 3600 * 1000) {
    std::fprintf(stderr, "relayscope survey: --greylist-retry: %s\n",
                 greylist_retry ? "at most 24h" : greylist_retry.error().message.c_str());
    return exit_usage;
  }
  o.greylist_retry = std::chrono::milliseconds(greylist_retry->count());
  o.greylist_retry_given = a.greylist_option->count() > 0;
  auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_seconds * 1000));
  o.probe.client.connect_timeout = o.probe.client.greeting_timeout =
      o.probe.client.command_timeout = o.probe.client.data_timeout = timeout;
  if (!survey::set_family(o, a.family)) {
    std::fprintf(stderr, "relayscope survey: --family must be 4, 6 or both\n");
    return exit_usage;
  }
  o.probe.send_data = !a.no_data;
  o.probe.variants_all = a.variants == "all";
  o.progress = !a.quiet && isatty(STDERR_FILENO);
  // --exclude: an existing file of CIDRs, else a CIDR or an address.
  for (const auto& e : a.excludes) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(e, ec)) {
      o.exclude_files.push_back(std::filesystem::absolute(e, ec).string());
    } else if (Cidr::parse(e)) {
      o.exclude.push_back(e);
    } else {
      std::fprintf(stderr,
                   "relayscope survey: --exclude: '%s' is neither a readable file nor a CIDR\n",
                   e.c_str());
      return exit_usage;
    }
  }
  if (!o.probe.contact.empty()) {
    if (auto s = survey::check_contact(o.probe.contact); !s) {
      std::fprintf(stderr, "relayscope survey: %s\n", s.error().message.c_str());
      return exit_usage;
    }
  }
  // A mistyped --dns, --scope or --exclude is a usage error, found before the
  // database is opened so that it leaves no run behind. On resume the run's
  // stored options are used (and checked by run_survey).
  if (!a.resume && !a.join) {
    if (auto s = survey::check_identity(o); !s) {
      std::fprintf(stderr, "relayscope survey: %s\n", s.error().message.c_str());
      return exit_usage;
    }
    if (auto s = survey::check_options(o); !s) {
      std::fprintf(stderr, "relayscope survey: %s\n", s.error().message.c_str());
      return exit_usage;
    }
  }
  return exit_ok;
}

}  // namespace relayscope::cli
