// relayscope db copy: runs from one results database to another, SQLite or
// PostgreSQL either way (store/copy.hpp).
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "store/copy.hpp"
#include "store/store.hpp"

namespace relayscope::cli {

namespace {

struct DbCopyArgs {
  std::string from;
  std::string to;
  std::string runs;  // "ID,ID,..." or empty: all
};

int copy(const DbCopyArgs& a) {
  std::vector<std::int64_t> ids;
  if (!a.runs.empty() && a.runs != "all") {
    std::stringstream in(a.runs);
    std::string item;
    while (std::getline(in, item, ',')) {
      try {
        std::size_t used = 0;
        auto id = std::stoll(item, &used);
        if (used != item.size() || id <= 0) throw std::invalid_argument(item);
        ids.push_back(id);
      } catch (const std::exception&) {
        std::fprintf(stderr, "relayscope db copy: --runs: not a run id: '%s'\n", item.c_str());
        return exit_usage;
      }
    }
  }
  if (a.from == a.to) {
    std::fprintf(stderr, "relayscope db copy: --from and --to name the same database\n");
    return exit_usage;
  }
  auto from = store::open_store(a.from, store::OpenMode::existing);
  if (!from) {
    std::fprintf(stderr, "relayscope db copy: --from: %s\n", from.error().message.c_str());
    return exit_failure;
  }
  auto to = store::open_store(a.to, store::OpenMode::create);
  if (!to) {
    std::fprintf(stderr, "relayscope db copy: --to: %s\n", to.error().message.c_str());
    return exit_failure;
  }
  auto r = store::copy_runs(**from, **to, ids);
  if (!r) {
    std::fprintf(stderr, "relayscope db copy: %s\n", r.error().message.c_str());
    return exit_failure;
  }
  for (const auto& [src, dst] : r->runs) {
    std::printf("run %lld -> run %lld\n", static_cast<long long>(src), static_cast<long long>(dst));
  }
  std::printf("copied %zu run(s): %lld hosts, %lld probes, %lld arrivals\n", r->runs.size(),
              static_cast<long long>(r->hosts), static_cast<long long>(r->probes),
              static_cast<long long>(r->arrivals));
  return exit_ok;
}

}  // namespace

Registered add_db(CLI::App& parent) {
  auto a = std::make_shared<DbCopyArgs>();
  auto* app = parent.add_subcommand("db", "Work on results databases (SQLite or PostgreSQL)");
  app->require_subcommand(1);
  auto* cp = app->add_subcommand(
      "copy",
      "Copy runs between databases, either way between a SQLite file and postgresql://URI; "
      "runs get new ids in the target");
  cp->add_option("--from", a->from, "Source: a SQLite file or postgresql://URI")->required();
  cp->add_option("--to", a->to, "Target: a SQLite file (created if missing) or postgresql://URI")
      ->required();
  cp->add_option("--runs", a->runs, "Only these runs: ID,ID,... (default: all)");
  describe(app, "relayscope db copy --from FILE-OR-URI --to FILE-OR-URI [--runs ID,...]",
           "  relayscope db copy --from lab.db --to postgresql://db.example.net/relayscope\n"
           "  relayscope db copy --from postgresql:// --to march.db --runs 3\n");
  return {app, [a] { return copy(*a); }};
}

}  // namespace relayscope::cli
