// relayscope collect: run the survey's test domain's MX until stopped; every
// arrival is kept on disk and tied to its probe in the results database.
#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "collect/collector.hpp"
#include "metrics/server.hpp"
#include "server/logging.hpp"
#include "store/store.hpp"

namespace relayscope::cli {

namespace {

struct CollectArgs {
  collect::CollectorOptions options;
  std::string db;
  std::string metrics;  // --metrics ADDR:PORT
};

// The collector's figures, read at scrape time on the collector's own loop.
void register_metrics(metrics::Registry& r, const collect::Collector& c) {
  r.gauge_fn("relayscope_collect_sessions", "SMTP sessions open at the collector", {},
             [&c] { return static_cast<double>(c.active_sessions()); });
  const char* help =
      "Arrivals at the collector by kind: delivery (a relayed test message), bounce, "
      "warning (a delay DSN), unmatched (no probe's token)";
  auto kind = [&](const char* name, auto field) {
    r.counter_fn("relayscope_collect_arrivals_total", help, {{"kind", name}},
                 [&c, field] { return static_cast<double>(c.counts().*field); });
  };
  kind("delivery", &collect::CollectorCounts::deliveries);
  kind("bounce", &collect::CollectorCounts::bounces);
  kind("warning", &collect::CollectorCounts::warnings);
  kind("unmatched", &collect::CollectorCounts::unmatched);
}

int run(CollectArgs& a) {
  // Its log lines (arrivals, NOQUEUE refusals) as the relay's: standard
  // error, so that standard output keeps what it printed before.
  (void)server::setup_logging("info", "stderr", "");
  if (!a.metrics.empty()) {
    if (auto ep = metrics::parse_listen(a.metrics); !ep) {
      std::fprintf(stderr, "relayscope collect: %s\n", ep.error().message.c_str());
      return exit_usage;
    }
  }
  if (a.options.spool_dir.empty()) {
    a.options.spool_dir = (std::filesystem::path(a.db).parent_path() / "collected").string();
    if (std::filesystem::path(a.db).parent_path().empty()) a.options.spool_dir = "collected";
  }
  auto db = store::open_store(a.db, store::OpenMode::create);
  if (!db) {
    std::fprintf(stderr, "relayscope collect: %s\n", db.error().message.c_str());
    return exit_failure;
  }
  asio::io_context io;
  // The collector owns the database: arrivals are written on its writer thread.
  auto collector = collect::Collector::start(io.get_executor(), a.options, std::move(*db));
  if (!collector) {
    std::fprintf(stderr, "relayscope collect: %s\n", collector.error().message.c_str());
    return exit_usage;
  }
  std::unique_ptr<metrics::Server> endpoint;
  if (!a.metrics.empty()) {
    register_metrics(metrics::default_registry(), **collector);
    auto m = metrics::Server::start(io.get_executor(), a.metrics, metrics::default_registry());
    if (!m) {
      std::fprintf(stderr, "relayscope collect: %s\n", m.error().message.c_str());
      return exit_failure;
    }
    endpoint = std::move(*m);
    std::printf("relayscope collect: metrics on http://%s/metrics\n", endpoint->endpoint().c_str());
  }
  std::printf("relayscope collect: taking mail for %s on %s, keeping it in %s\n",
              a.options.domain.c_str(), (*collector)->endpoint().c_str(),
              a.options.spool_dir.c_str());
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    (*collector)->stop();
    if (endpoint) endpoint->stop();
    io.stop();
  });
  io.run();
  const auto& n = (*collector)->counts();
  std::printf(
      "relayscope collect: %lld deliveries, %lld bounces, %lld delay warnings, %lld unmatched\n",
      static_cast<long long>(n.deliveries), static_cast<long long>(n.bounces),
      static_cast<long long>(n.warnings), static_cast<long long>(n.unmatched));
  return exit_ok;
}

}  // namespace

Registered add_collect(CLI::App& parent) {
  auto a = std::make_shared<CollectArgs>();
  auto* app = parent.add_subcommand(
      "collect", "Be the MX of the survey's test domain: tie deliveries and bounces to probes");
  app->add_option("--listen", a->options.listen, "ADDR:PORT to listen on")->required();
  app->add_option("--domain", a->options.domain, "The test domain (the survey's --rcpt-to domain)")
      ->required();
  app->add_option("--db", a->db, "The survey's results database: a SQLite file or postgresql://URI")
      ->required();
  app->add_option("--spool", a->options.spool_dir,
                  "Where messages are kept (default: 'collected' beside the database)");
  app->add_option("--hostname", a->options.hostname, "Our name in the greeting")
      ->default_val("collector.relayscope.test");
  app->add_option("--sender-local-part", a->options.sender_local_part,
                  "Local part of the survey's --mail-from")
      ->default_val("probe");
  app->add_option("--recipient-local-part", a->options.recipient_local_part,
                  "Local part of the survey's --rcpt-to")
      ->default_val("relay-test");
  app->add_option("--metrics", a->metrics,
                  "Serve Prometheus metrics (GET /metrics) on ADDR:PORT: open sessions, "
                  "arrivals by kind");
  describe(
      app, "relayscope collect --listen ADDR:PORT --domain DOMAIN --db FILE [--spool DIR]",
      "  relayscope collect --listen 192.0.2.25:25 --domain collector.example --db results.db\n");
  return {app, [a] { return run(*a); }};
}

}  // namespace relayscope::cli
