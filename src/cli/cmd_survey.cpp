// relayscope survey: the IMC's survey (DESIGN.md contract: command line).
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "cli/survey_summary.hpp"
#include "common/cidr.hpp"
#include "common/open_files.hpp"
#include "metrics/server.hpp"
#include "server/config.hpp"
#include "smtp/path.hpp"
#include "store/store.hpp"
#include "survey/join.hpp"
#include "survey/jsonl_sink.hpp"
#include "survey/prober_child.hpp"
#include "survey/process_pool.hpp"
#include "survey/runner.hpp"
#include "survey/survey_metrics.hpp"
#include "survey/test_message.hpp"

namespace relayscope::cli {

namespace {

struct SurveyArgs {
  survey::SurveyOptions options;
  std::string db;
  double timeout_seconds = 30;
  std::optional<std::int64_t> resume;
  std::optional<std::int64_t> join;
  bool prepare_only = false;
  std::vector<std::string> sources;
  std::string family = "4";
  double lease_seconds = 60;
  CLI::Option* helo_option = nullptr;      // given or not: a worker keeps the run's otherwise
  CLI::Option* greylist_option = nullptr;  // given or not: --resume keeps the run's otherwise
  std::string variants = "imc";
  bool no_data = false;
  bool quiet = false;
  std::string host_timeout = "15m";
  std::string greylist_retry = "6m";
  std::vector<std::string> excludes;  // --exclude: files or CIDRs, in the order given
  std::string jsonl;                  // --jsonl FILE|-
  std::string metrics;                // --metrics ADDR:PORT
  std::string processes = "auto";     // --processes N|auto
  bool probing_child = false;         // hidden: this is a child of --processes (prober_child.hpp)
};

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

int run(SurveyArgs& a) {
  if (a.probing_child) return survey::run_probing_child();
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
  // On PostgreSQL, resuming a prepared run is being one --join worker.
  bool as_worker = a.join.has_value();
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

  const std::size_t processes = resolve_processes(a);
  if (processes == 0) return exit_usage;
  if (processes > 1 && a.processes != "auto" && (a.join || a.prepare_only)) {
    std::fprintf(stderr,
                 "relayscope survey: --processes is for a survey that probes here: a --join "
                 "worker is one process (start more workers instead)\n");
    return exit_usage;
  }
  std::unique_ptr<survey::ProcessPool> pool;
  if (processes > 1) {
    pool = std::make_unique<survey::ProcessPool>(processes);
    o.prober = pool.get();
  }

  if (!a.metrics.empty()) {
    if (auto ep = metrics::parse_listen(a.metrics); !ep) {
      std::fprintf(stderr, "relayscope survey: --metrics: %s\n", ep.error().message.c_str());
      return exit_usage;
    }
  }
  // --jsonl -: standard output carries the JSON lines alone.
  const bool jsonl_stdout = a.jsonl == "-";
  std::unique_ptr<survey::JsonlSink> jsonl;
  if (!a.jsonl.empty()) {
    auto j = survey::JsonlSink::open(a.jsonl);
    if (!j) {
      std::fprintf(stderr, "relayscope survey: %s\n", j.error().message.c_str());
      return exit_usage;
    }
    jsonl = std::move(*j);
  }
  survey::ObserverList observers;
  observers.add(jsonl.get());

  auto db = store::open_store(a.db, store::OpenMode::create);
  if (!db) {
    std::fprintf(stderr, "relayscope survey: %s\n", db.error().message.c_str());
    return exit_failure;
  }
  if (postgres && a.resume) {
    auto r = (*db)->get_run(*a.resume);
    if (r && r->prepared) {
      as_worker = true;
      a.join = a.resume;
    }
  }

  asio::io_context io;
  std::unique_ptr<survey::SurveyMetrics> survey_metrics;
  std::unique_ptr<metrics::Server> metrics_endpoint;
  if (!a.metrics.empty()) {
    survey_metrics = std::make_unique<survey::SurveyMetrics>(metrics::default_registry());
    observers.add(survey_metrics.get());
    auto m = metrics::Server::start(io.get_executor(), a.metrics, metrics::default_registry());
    if (!m) {
      std::fprintf(stderr, "relayscope survey: --metrics: %s\n", m.error().message.c_str());
      return exit_failure;
    }
    metrics_endpoint = std::move(*m);
    std::fprintf(stderr, "relayscope survey: metrics on http://%s/metrics\n",
                 metrics_endpoint->endpoint().c_str());
  }
  if (!observers.empty()) o.observer = &observers;
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
        if (as_worker) {
          survey::JoinOptions jo;
          jo.concurrency = o.concurrency;
          jo.rate = o.rate;
          jo.helo = a.helo_option->count() > 0 ? o.probe.client.helo_name : std::string();
          jo.sources = o.probe.sources;
          jo.lease = std::chrono::milliseconds(static_cast<std::int64_t>(a.lease_seconds * 1000));
          jo.progress = o.progress;
          jo.observer = o.observer;
          result = co_await survey::join_run(**db, *a.join, jo, stop);
        } else {
          result = co_await survey::run_survey(o, **db, a.resume, stop);
        }
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
        if (metrics_endpoint) metrics_endpoint->stop();
      });
  io.run();
  if (jsonl) {
    if (auto s = jsonl->close(); !s) {
      std::fprintf(stderr, "relayscope survey: %s\n", s.error().message.c_str());
      if (result && *result) result = Expected<survey::SurveySummary>(s.error());
    }
  }
  if (jsonl_stdout) {
    // Everything printed from here on (the summary) goes to standard error,
    // so that standard output is JSON lines only.
    std::fflush(stdout);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
  }
  if (!result || !*result) {
    std::fprintf(stderr, "relayscope survey: %s\n",
                 result ? (*result).error().message.c_str() : "stopped");
    return exit_failure;
  }
  return print_survey_summary(result->value(), a.db, a.prepare_only);
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
  app->add_option("--db", a->db,
                  "Results database: a SQLite file (created if missing) or postgresql://URI (libpq "
                  "takes what it leaves out from PGHOST, PGUSER, PGPASSFILE...)")
      ->required();
  // EHLO names us (RFC 5321 4.1.1.1): a domain or an address literal, never
  // empty; a server may refuse what is neither.
  a->helo_option = app->add_option("--helo", o.probe.client.helo_name,
                                   "Our host name in EHLO/HELO (a domain or an address literal)")
                       ->default_val("relayscope.invalid")
                       ->check([](const std::string& v) {
                         return smtp::parse_host(v)
                                    ? std::string()
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
  app->add_option("--exclude", a->excludes,
                  "A file of CIDRs (one a line, # comments: opt-out lists) or a CIDR never to "
                  "touch; repeatable, all read before the first packet. Special-purpose ranges "
                  "(RFC 6890: private, loopback, documentation, multicast...) are excluded "
                  "besides, unless a --scope CIDR lies within one")
      ->type_name("FILE|CIDR")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--contact", o.probe.contact,
                  "An address to opt out at and a sentence on the survey, put into the test "
                  "message (body and an X-Relayscope-Contact header)")
      ->type_name("TEXT");
  app->add_option("--rate", o.rate, "At most N new connections per second (0: no limit)")
      ->default_val(0);
  app->add_flag("--no-data", a->no_data, "Stop after RCPT TO (RSET, QUIT): send no message");
  app->add_option("--variants", a->variants, "imc: the IMC's one test; all: every relay trick")
      ->default_val("imc")
      ->check(CLI::IsMember({"imc", "all"}));
  app->add_option("--family", a->family,
                  "Address families probed: 4 (A, the IMC's), 6 (AAAA) or both (each address of "
                  "a host is a row of its own; IPv6 addresses without a route from here drop "
                  "out before the sample)")
      ->type_name("4|6|both")
      ->default_val("4")
      ->check(CLI::IsMember({"4", "6", "both"}));
  app->add_flag("--mx-fallback", o.probe.mx_fallback,
                "On a CONNECT failure, try the higher-numbered MX hosts");
  app->add_option("--resume", a->resume,
                  "Finish an interrupted run of --db (on PostgreSQL: as one --join worker)");
  app->add_flag("--prepare-only", a->prepare_only,
                "Read, resolve and sample, store the hosts, probe nothing; the run's id is the "
                "last line of output: workers then probe it with --join");
  app->add_option("--join", a->join,
                  "Work on run RUN of a shared --db postgresql://...: claim hosts in batches "
                  "with a lease, probe, store, until none is left. The run gives what to probe; "
                  "--helo, --source, --concurrency and --rate are this machine's. On SQLite, "
                  "the same as --resume")
      ->type_name("RUN");
  app->add_option("--source", a->sources,
                  "Our address: probes connect from it; repeatable: probes take turns over the "
                  "addresses of the destination's family (no port reserved per connection: "
                  "IP_BIND_ADDRESS_NO_PORT); give each worker its own")
      ->type_name("ADDR")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--lease", a->lease_seconds,
                  "With --join: seconds a claim lasts unless renewed; a dead worker's hosts "
                  "return to the others after it")
      ->default_val(60);
  app->add_option("--host-timeout", a->host_timeout,
                  "All of one host's time, its variants' reconnections included (e.g. 15m)")
      ->type_name("DURATION")
      ->default_val("15m");
  a->greylist_option =
      app->add_option("--greylist-retry", a->greylist_retry,
                      "A host answering 4xx at RCPT TO is probed once more after this delay, in "
                      "the same run, with the same sender and recipient (0: off); the run waits "
                      "for due retries before it ends")
          ->type_name("DURATION")
          ->default_val("6m");
  app->add_flag("--quiet", a->quiet, "No progress line");
  app->add_option("--jsonl", a->jsonl,
                  "Write one JSON line per finished probe to FILE (- for standard output; the "
                  "summary then goes to standard error), each as it is stored: the fields of "
                  "`report --hosts --format json`, with delivered and bounced null (the collector "
                  "learns them later)")
      ->type_name("FILE|-");
  app->add_option("--metrics", a->metrics,
                  "Serve Prometheus metrics (GET /metrics) on ADDR:PORT while the survey runs: "
                  "probes started, in flight, finished, per second, outcomes by step, store "
                  "writes. With --processes the one endpoint (in the parent) serves the sum of "
                  "all the probing processes; with --join each worker serves its own and the "
                  "run's figures are their sum")
      ->type_name("ADDR:PORT");
  app->add_option("--processes", a->processes,
                  "Probing processes (auto: as many as the open-files limit needs for "
                  "--concurrency, one in the usual case). One process may hold no more "
                  "descriptors than the open-files hard limit (ulimit -Hn, often 20,000), one a "
                  "probe: past it this process prepares the run and writes the store, and N "
                  "children probe, each with --concurrency/N and hosts handed out in batches; "
                  "N may also be the number of cores (a process is one thread of probing). With "
                  "a higher hard limit (ulimit -Hn, LimitNOFILE=) one process does it all")
      ->type_name("N|auto")
      ->default_val("auto");
  app->add_flag("--probing-child", a->probing_child)->group("");
  describe(app,
           "relayscope survey --targets FILE --dns HOST:PORT --db FILE [--domains] [--sample N]\n"
           "                  [--seed S] [--label TEXT] [--scope CIDR ...] [--variants imc|all]\n"
           "                  [--family 4|6|both] [--source ADDR ...]\n"
           "relayscope survey --db FILE --resume RUN",
           "  relayscope survey --targets addresses.txt --dns 127.0.0.1:5353 --db results.db \\\n"
           "                    --sample 500 --seed 7 --label March\n"
           "  relayscope survey --db results.db --resume 3\n",
           "0 the run finished; 2 a usage error; 1 any other failure;\n"
           "130 stopped by Ctrl-C or SIGTERM (probes in flight stored; --resume finishes it)");
  return {app, [a] { return run(*a); }};
}

}  // namespace relayscope::cli
