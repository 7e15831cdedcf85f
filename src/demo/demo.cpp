// See demo.hpp. The lab's hosts, its DNS server and the survey's probes all
// run as coroutines on one io_context; the demo ends when the survey does.
#include "demo/demo.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "collect/collector.hpp"
#include "demo/waiting.hpp"
#include "lab/lab.hpp"
#include "store/store.hpp"
#include "survey/runner.hpp"

namespace relayscope::demo {

namespace {

// A private temporary directory, removed when the demo ends.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    auto base = std::filesystem::temp_directory_path();
    for (int i = 0; i < 100 && path.empty(); ++i) {
      auto p = base / fmt::format("relayscope-demo-{}-{}", ::getpid(), i);
      std::error_code ec;
      if (std::filesystem::create_directory(p, ec)) path = p;
    }
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

const std::string collector_domain = "collector.relayscope.test";

// Waits (looking every 50 ms, within `bound`) until the lab has no delivery
// in flight and the collector no session open; on a terminal, says so about
// once a second (waiting.hpp decides when and what).
asio::awaitable<void> drain(lab::Lab& lab, collect::Collector& collector,
                            std::chrono::seconds bound, bool progress) {
  auto w = start_waiting(std::chrono::steady_clock::now(), bound);
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (;;) {
    auto step = wait_step(w, std::chrono::steady_clock::now(), lab.pending_deliveries(),
                          collector.active_sessions(), progress);
    if (step.line) {
      std::fprintf(stderr, "\r%s   ", step.line->c_str());
      std::fflush(stderr);
    }
    if (step.done) break;
    t.expires_after(std::chrono::milliseconds(50));
    co_await t.async_wait(asio::use_awaitable);
  }
  if (w.printed) std::fprintf(stderr, "\n");
}

}  // namespace

Expected<DemoResult> run_demo(const DemoOptions& options) {
  auto imc = imc_run(options.imc_run);
  if (!imc) return imc.error();
  TempDir tmp;
  if (tmp.path.empty()) return make_error("cannot create a temporary directory");

  asio::io_context io;
  lab::LabOptions lo;
  lo.profile = options.profile;
  lo.profiles_dir = options.profiles_dir;
  lo.seed = options.seed;
  lo.dns = "127.0.0.1:0";  // any free port: the demo must not collide with a running lab
  lo.port = 0;
  auto lab = lab::Lab::start(io.get_executor(), lo);
  if (!lab) return lab.error();
  std::string db_path = options.db.empty() ? (tmp.path / "demo.db").string() : options.db;
  auto db = store::open_sqlite(db_path);
  if (!db) return db.error();

  // The collector is the MX of our test domain, on the lab's SMTP port so
  // that the lab's relaying hosts deliver to it (and bounce to it).
  collect::CollectorOptions co;
  co.listen = "127.0.0.250:" + std::to_string((*lab)->port());
  co.domain = collector_domain;
  co.spool_dir = (tmp.path / "collected").string();
  co.command_timeout = co.data_timeout = options.timeout * 2;
  auto collector = collect::Collector::start(io.get_executor(), co, **db);
  if (!collector) return collector.error();
  if (auto s = (*lab)->add_record(collector_domain + " MX 127.0.0.250"); !s) return s.error();

  auto names = (tmp.path / "names.txt").string();
  if (auto s = (*lab)->write_names(names); !s) return s.error();

  survey::SurveyOptions so;
  so.targets_file = names;
  so.dns_servers = {(*lab)->dns_endpoint()};
  so.sample = options.sample;
  so.seed = options.seed;
  so.label = "demo " + options.profile;
  so.probe.port = (*lab)->port();
  so.probe.client.helo_name = "demo.relayscope.test";
  so.probe.mail_from = "probe@" + collector_domain;
  so.probe.rcpt_to = "relay-test@" + collector_domain;
  so.probe.client.connect_timeout = so.probe.client.greeting_timeout =
      so.probe.client.command_timeout = so.probe.client.data_timeout = options.timeout;
  so.concurrency = options.concurrency;
  so.scope = {"127.0.0.0/8"};  // the demo never leaves this machine
  so.dns_timeout = std::chrono::milliseconds(1000);
  so.progress = options.progress;
  // The lab's greylisting hosts never accept a retry: waiting --greylist-retry's
  // 6 minutes for them would change no figure of the demo.
  so.greylist_retry = std::chrono::milliseconds(0);

  bool stop = false;
  bool interrupted = false;
  std::optional<asio::signal_set> signals;
  if (options.handle_signals) {
    signals.emplace(io, SIGINT, SIGTERM);
    signals->async_wait([&](const std::error_code& ec, int) {
      if (ec) return;
      stop = interrupted = true;
      std::fprintf(stderr,
                   "\nrelayscope demo: stopping: no new probes; the lab and the collector stop "
                   "once those in flight end; a second signal ends the demo at once\n");
      signals->async_wait([](const std::error_code& e, int) {
        if (!e) std::_Exit(130);
      });
    });
  }
  // Orderly end: the lab and the collector stop accepting (the lab also
  // closes its sessions); deliveries under way end (bounded by their
  // timeouts, no retries after stop) and io.run() returns only when nothing
  // is left, so no coroutine outlives the objects it uses.
  auto stop_all = [&] {
    (*collector)->stop();
    (*lab)->stop();
    if (signals) signals->cancel();
  };
  std::optional<Expected<survey::SurveySummary>> summary;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        summary = co_await survey::run_survey(so, **db, std::nullopt, stop);
        // The relaying hosts pass the messages on after they said 250, and
        // the bouncing ones send their DSNs: wait for those to land, within
        // a bound, before counting (not when stopped by a signal).
        if (!interrupted)
          co_await drain(**lab, **collector, std::chrono::seconds(60), options.progress);
        stop_all();
      },
      [&](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            summary = make_error(ex.what());
          }
          stop_all();
        }
      });
  if (options.on_started) options.on_started();
  io.run();
  if (interrupted) {
    DemoResult r;
    r.interrupted = true;
    return r;
  }
  if (!summary) return make_error("the survey did not finish");
  if (!*summary) return summary->error();
  if (!options.truth_out.empty()) {
    if (auto s = (*lab)->write_truth(options.truth_out); !s) return s.error();
  }

  DemoResult r;
  r.run_id = (*summary)->run_id;
  r.dns = (*lab)->dns_endpoint();
  r.lab_hosts = (*lab)->host_count();
  r.figures.funnel = (*summary)->funnel;
  r.figures.outcomes = (*summary)->outcomes;
  auto rows = (*db)->host_rows(r.run_id);
  if (!rows) return rows.error();
  std::int64_t delivered = 0, bounced = 0;
  for (const auto& row : *rows) {
    delivered += row.delivered ? 1 : 0;
    bounced += row.bounced ? 1 : 0;
  }
  r.figures.delivered = delivered;
  r.figures.bounced = bounced;
  r.table = comparison_table(r.figures, *imc);
  return r;
}

}  // namespace relayscope::demo
