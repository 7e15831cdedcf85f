// relayscope report: the funnel and the IMC's outcome table for one run or
// several side by side, or one row per probed host (--hosts), as text,
// markdown, JSON, CSV or HTML. Reads the database; never creates one.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "common/durable_file.hpp"
#include "report/build.hpp"
#include "report/render.hpp"
#include "store/store.hpp"

namespace relayscope::cli {

namespace {

struct ReportArgs {
  std::string db;
  std::string runs;  // empty: the most recent run
  bool hosts = false;
  std::string format = "text";
  std::string out;
  bool ci = false;
};

// Written beside the target, flushed to disk, then renamed over it: a reader
// sees the old report or the new one, never half of one.
Status write_atomically(const std::string& path, const std::string& text) {
  DurableOptions o;
  o.mode = 0644;
  o.replace_stale_tmp = true;
  auto s = write_durably(path + ".tmp." + std::to_string(::getpid()), path, text, true, o);
  if (!s) return make_error("cannot write '" + path + "': " + s.error().message);
  return Ok{};
}

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "relayscope report: %s\n", message.c_str());
  return code;
}

int run_report(const ReportArgs& a) {
  auto format = report::parse_format(a.format);
  if (!format) return fail(exit_usage, format.error().message);
  // Never create a database here: a mistyped path must be an error.
  auto db = store::open_store(a.db, store::OpenMode::existing);
  if (!db) return fail(exit_usage, db.error().message);
  auto ids = report::select_runs(**db, a.runs);
  if (!ids) {
    bool usage = ids.error().message.rfind("unknown run id", 0) == 0 ||
                 ids.error().message.rfind("bad run id", 0) == 0;
    return fail(usage ? exit_usage : exit_failure, ids.error().message);
  }
  std::string text;
  if (a.hosts) {
    // JSON is for programs: it carries each dialogue's transcript too.
    auto rows = report::build_host_rows(**db, *ids, *format == report::Format::json);
    if (!rows) return fail(exit_failure, rows.error().message);
    text = report::render_hosts(*rows, *format);
  } else {
    auto data = report::build_report(**db, *ids);
    if (!data) return fail(exit_failure, data.error().message);
    report::RenderOptions options;
    options.ci = a.ci;
    text = report::render(*data, *format, options);
  }
  if (!a.out.empty()) {
    if (auto s = write_atomically(a.out, text); !s) return fail(exit_failure, s.error().message);
    return exit_ok;
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    return fail(exit_failure, std::string("cannot write the report: ") + std::strerror(errno));
  }
  return exit_ok;
}

}  // namespace

Registered add_report(CLI::App& parent) {
  auto a = std::make_shared<ReportArgs>();
  auto* app = parent.add_subcommand(
      "report", "Print the funnel and the outcome table of survey runs (or one row per host)");
  app->add_option(
         "--db", a->db,
         "Results database: a SQLite file or postgresql://URI (must exist; never created here)")
      ->required();
  app->add_option("--runs", a->runs,
                  "Which runs: all (oldest first), or ID,ID,... in the order given; "
                  "default: the most recent run");
  app->add_flag("--hosts", a->hosts,
                "One row per probed host instead of the summary (CSV columns: "
                "domain,ip,outcome,code,reason,...)");
  app->add_option("--format", a->format, "text, markdown, json, csv or html")
      ->default_val("text")
      ->check(CLI::IsMember({"text", "markdown", "json", "csv", "html"}));
  app->add_flag("--ci", a->ci,
                "Give each outcome's share with its 95% interval (Wilson): how far sampling "
                "alone could move it");
  app->add_option("--out", a->out, "Write here (atomically) instead of standard output");
  describe(app,
           "relayscope report --db FILE [--runs all|ID,ID,...] [--hosts]\n"
           "                  [--format text|markdown|json|csv|html] [--out FILE]",
           "  relayscope report --db results.db\n"
           "  relayscope report --db results.db --runs all\n"
           "  relayscope report --db results.db --hosts --format csv --out hosts.csv\n");
  return {app, [a] { return run_report(*a); }};
}

}  // namespace relayscope::cli
