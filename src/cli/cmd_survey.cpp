// relayscope survey: the IMC's survey (DESIGN.md contract: command line).
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "server/config.hpp"
#include "smtp/path.hpp"
#include "store/store.hpp"
#include "survey/runner.hpp"

namespace relayscope::cli {

namespace {

struct SurveyArgs {
  survey::SurveyOptions options;
  std::string db;
  double timeout_seconds = 30;
  std::optional<std::int64_t> resume;
  std::string variants = "imc";
  bool no_data = false;
  bool quiet = false;
  std::string host_timeout = "15m";
};

int run(SurveyArgs& a) {
  auto& o = a.options;
  if (!a.resume && o.targets_file.empty()) {
    std::fprintf(stderr, "relayscope survey: --targets FILE is required (or --resume RUN)\n");
    return exit_usage;
  }
  if (!a.resume && o.dns_servers.empty()) {
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
  auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_seconds * 1000));
  o.probe.client.connect_timeout = o.probe.client.greeting_timeout =
      o.probe.client.command_timeout = o.probe.client.data_timeout = timeout;
  o.probe.send_data = !a.no_data;
  o.probe.variants_all = a.variants == "all";
  o.progress = !a.quiet && isatty(STDERR_FILENO);
  // A mistyped --dns, --scope or --exclude is a usage error, found before the
  // database is opened so that it leaves no run behind. On resume the run's
  // stored options are used (and checked by run_survey).
  if (!a.resume) {
    if (auto s = survey::check_options(o); !s) {
      std::fprintf(stderr, "relayscope survey: %s\n", s.error().message.c_str());
      return exit_usage;
    }
  }

  auto db = store::open_sqlite(a.db);
  if (!db) {
    std::fprintf(stderr, "relayscope survey: %s\n", db.error().message.c_str());
    return exit_failure;
  }

  asio::io_context io;
  bool stop = false;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    stop = true;
    std::fprintf(stderr,
                 "\nrelayscope survey: stopping: no new probes; those in flight finish and are "
                 "recorded (at most --timeout per step); a second signal abandons them\n");
    // A second signal ends the process at once; what is not yet stored is
    // probed again on resume.
    signals.async_wait([](const std::error_code& e, int) {
      if (!e) std::_Exit(130);
    });
  });
  std::optional<Expected<survey::SurveySummary>> result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await survey::run_survey(o, **db, a.resume, stop);
      },
      [&](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            result = make_error(ex.what());
          }
        }
        signals.cancel();
      });
  io.run();
  if (!result || !*result) {
    std::fprintf(stderr, "relayscope survey: %s\n",
                 result ? (*result).error().message.c_str() : "stopped");
    return exit_failure;
  }
  const auto& s = result->value();
  std::printf(
      "run %lld: %lld names, %lld unique domains, %lld resolved hosts, %lld excluded, %lld "
      "sampled\n",
      static_cast<long long>(s.run_id), static_cast<long long>(s.funnel.names),
      static_cast<long long>(s.funnel.unique_domains),
      static_cast<long long>(s.funnel.resolved_hosts), static_cast<long long>(s.funnel.excluded),
      static_cast<long long>(s.funnel.sampled));
  for (const auto& [outcome, n] : s.outcomes) {
    std::printf("%-8s %lld\n", outcome.c_str(), static_cast<long long>(n));
  }
  std::printf("time: %.1f s reading and resolving, %.1f s probing %lld hosts (%.0f probes/s)\n",
              s.preparing_seconds, s.probing_seconds, static_cast<long long>(s.probed_now),
              s.probing_seconds > 0 ? static_cast<double>(s.probed_now) / s.probing_seconds : 0.0);
  if (s.local_failures > 0) {
    std::printf(
        "local failures: %lld probes could not connect for a shortage of our own (open files, "
        "source ports) and were tried again later; never counted as a host's outcome\n",
        static_cast<long long>(s.local_failures));
  }
  if (s.given_up > 0) {
    std::printf(
        "gave up: %lld hosts left unprobed after repeated local failures; lower "
        "--concurrency or raise the open-files limit, then `relayscope survey --db %s "
        "--resume %lld`\n",
        static_cast<long long>(s.given_up), a.db.c_str(), static_cast<long long>(s.run_id));
    return exit_failure;
  }
  if (s.interrupted) {
    std::printf("interrupted: finish it with `relayscope survey --db %s --resume %lld`\n",
                a.db.c_str(), static_cast<long long>(s.run_id));
    return exit_interrupted;
  }
  return exit_ok;
}

}  // namespace

Registered add_survey(CLI::App& parent) {
  auto a = std::make_shared<SurveyArgs>();
  auto& o = a->options;
  auto* app = parent.add_subcommand(
      "survey", "Probe mail servers for open relaying, the way the IMC's surveys did");
  app->add_option("--targets", o.targets_file,
                  "File of e-mail addresses (one a line, or mbox/header lines); with --domains, "
                  "domains or IP addresses")
      ->check(CLI::ExistingFile);
  app->add_flag("--domains", o.domains_mode,
                "The targets file holds domains or IPs, not addresses");
  app->add_option("--dns", o.dns_servers, "DNS server(s) to query, HOST:PORT (required)")
      ->type_name("HOST:PORT")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--port", o.probe.port, "SMTP port of the probed hosts")
      ->default_val(25)
      ->check(CLI::Range(1, 65535));
  app->add_option("--sample", o.sample, "Probe a seeded random sample of N hosts (0: all)")
      ->default_val(0);
  app->add_option("--seed", o.seed, "Seed of the sample and of MX tie-breaks")->default_val(1);
  app->add_option("--label", o.label, "A label for this run in reports");
  app->add_option("--db", a->db, "Results database (SQLite), created if missing")->required();
  // EHLO names us (RFC 5321 4.1.1.1): a domain or an address literal, never
  // empty; a server may refuse what is neither.
  app->add_option("--helo", o.probe.client.helo_name,
                  "Our host name in EHLO/HELO (a domain or an address literal)")
      ->default_val("relayscope.invalid")
      ->check([](const std::string& v) {
        return smtp::parse_host(v) ? std::string()
                                   : "not a host name or address literal: '" + v + "'";
      });
  app->add_option("--mail-from", o.probe.mail_from, "Envelope sender (tagged with each token)")
      ->default_val("probe@relayscope.invalid");
  app->add_option("--rcpt-to", o.probe.rcpt_to,
                  "Recipient at a domain the probed hosts are not responsible for: ours")
      ->default_val("relay-test@relayscope.invalid");
  app->add_option("--concurrency", o.concurrency, "Probes at once")->default_val(100);
  app->add_option("--timeout", a->timeout_seconds, "Seconds any one wait may take")
      ->default_val(30);
  app->add_option("--scope", o.scope, "Only touch these CIDRs (default: any)")
      ->type_name("CIDR")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--exclude", o.exclude_file, "File of CIDRs never to touch")
      ->check(CLI::ExistingFile);
  app->add_option("--rate", o.rate, "At most N new connections per second (0: no limit)")
      ->default_val(0);
  app->add_flag("--no-data", a->no_data, "Stop after RCPT TO (RSET, QUIT): send no message");
  app->add_option("--variants", a->variants, "imc: the IMC's one test; all: every relay trick")
      ->default_val("imc")
      ->check(CLI::IsMember({"imc", "all"}));
  app->add_flag("--mx-fallback", o.probe.mx_fallback,
                "On a CONNECT failure, try the higher-numbered MX hosts");
  app->add_option("--host-timeout", a->host_timeout,
                  "All of one host's time, its variants' reconnections included (e.g. 15m)")
      ->type_name("DURATION")
      ->default_val("15m");
  app->add_option("--resume", a->resume, "Finish an interrupted run of --db");
  app->add_flag("--quiet", a->quiet, "No progress line");
  return {app, [a] { return run(*a); }};
}

}  // namespace relayscope::cli
