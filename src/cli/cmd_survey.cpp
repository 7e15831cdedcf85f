// relayscope survey: the IMC's survey (DESIGN.md contract: command line):
// runs it once its options are declared (survey_options.cpp) and checked
// (survey_checks.cpp): the processes, observers, store, signals and event
// loop of one run, and the summary at its end.
#include <unistd.h>

#include <asio.hpp>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "cli/survey_args.hpp"
#include "cli/survey_summary.hpp"
#include "metrics/server.hpp"
#include "store/store.hpp"
#include "survey/join.hpp"
#include "survey/jsonl_sink.hpp"
#include "survey/prober_child.hpp"
#include "survey/process_pool.hpp"
#include "survey/runner.hpp"
#include "survey/survey_metrics.hpp"

namespace relayscope::cli {

namespace {

int run(SurveyArgs& a) {
  if (a.probing_child) return survey::run_probing_child();
  if (int status = check_survey_args(a); status != exit_ok) return status;
  auto& o = a.options;
  const bool postgres = store::is_postgres_uri(a.db);
  // On PostgreSQL, resuming a prepared run is being one --join worker.
  bool as_worker = a.join.has_value();

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
  auto* app = parent.add_subcommand(
      "survey", "Probe mail servers for open relaying, the way the IMC's surveys did");
  add_survey_options(app, *a);
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
