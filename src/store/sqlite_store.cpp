// The Store on SQLite (schema.cpp): prepared statements, one IMMEDIATE
// transaction per batch, so a killed survey leaves whole batches or nothing.
// Lists of addresses are kept as JSON arrays in one column.
#include "store/sqlite_store.hpp"

#include <sys/stat.h>

#include "store/schema.hpp"
#include "store/synchronized.hpp"

namespace relayscope::store {

namespace sqlite_backend {

Expected<std::int64_t> SqliteStore::create_run(const Run& run) {
  auto st = db_->prepare(
      "INSERT INTO runs (label, started_at, finished_at, status, params_json, names, "
      "lines_without_address, unique_domains, resolved_hosts, sampled, prepared, excluded) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (!st) return st.error();
  st->bind(1, run.label)
      .bind(2, run.started_at)
      .bind(3, run.finished_at)
      .bind(4, run.status.empty() ? std::string("running") : run.status)
      .bind(5, run.params_json.empty() ? std::string("{}") : run.params_json)
      .bind(6, run.funnel.names)
      .bind(7, run.funnel.lines_without_address)
      .bind(8, run.funnel.unique_domains)
      .bind(9, run.funnel.resolved_hosts)
      .bind(10, run.funnel.sampled)
      .bind(11, run.prepared)
      .bind(12, run.funnel.excluded);
  if (auto s = st->run(); !s) return context(s.error(), "create run");
  return db_->last_insert_rowid();
}

Status SqliteStore::finish_run(std::int64_t run_id, const std::string& status,
                               const std::string& finished_at) {
  auto st = db_->prepare("UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, run_id).bind(2, status).bind(3, finished_at);
  if (auto s = st->run(); !s) return context(s.error(), "finish run");
  if (db_->changes() == 0) return no_run(run_id);
  return Ok{};
}

Status SqliteStore::mark_prepared(std::int64_t run_id, const Funnel& f) {
  auto st = db_->prepare(
      "UPDATE runs SET names = ?2, lines_without_address = ?3, unique_domains = ?4, "
      "resolved_hosts = ?5, sampled = ?6, excluded = ?7, prepared = 1 WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, run_id)
      .bind(2, f.names)
      .bind(3, f.lines_without_address)
      .bind(4, f.unique_domains)
      .bind(5, f.resolved_hosts)
      .bind(6, f.sampled)
      .bind(7, f.excluded);
  if (auto s = st->run(); !s) return context(s.error(), "mark run prepared");
  if (db_->changes() == 0) return no_run(run_id);
  return Ok{};
}

Status SqliteStore::discard_preparation(std::int64_t run_id) {
  auto run = get_run(run_id);
  if (!run) return run.error();
  if (run->prepared) {
    return make_error("run " + std::to_string(run_id) + " is prepared: its hosts are kept");
  }
  return in_transaction(*db_, "discard preparation", [&]() -> Status {
    // Hosts take their host_domains (and any probe) with them (ON DELETE CASCADE).
    for (const char* sql :
         {"DELETE FROM hosts WHERE run_id = ?1", "DELETE FROM resolutions WHERE run_id = ?1",
          "DELETE FROM domains WHERE run_id = ?1"}) {
      auto st = db_->prepare(sql);
      if (!st) return st.error();
      st->bind(1, run_id);
      if (auto s = st->run(); !s) return s;
    }
    return Ok{};
  });
}

Expected<Run> SqliteStore::get_run(std::int64_t run_id) {
  auto runs = select_runs(run_id);
  if (!runs) return runs.error();
  if (runs->empty()) return no_run(run_id);
  return std::move(runs->front());
}

Error SqliteStore::no_run(std::int64_t run_id) const {
  return make_error("no run with id " + std::to_string(run_id));
}

Status SqliteStore::check_run(std::int64_t run_id) {
  auto st = db_->prepare("SELECT 1 FROM runs WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, run_id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return no_run(run_id);
  return Ok{};
}

Expected<std::vector<Run>> SqliteStore::select_runs(std::optional<std::int64_t> only) {
  auto st = db_->prepare(
      "SELECT id, label, started_at, finished_at, status, params_json, names, "
      "lines_without_address, unique_domains, resolved_hosts, sampled, prepared, excluded "
      "FROM runs "
      "WHERE ?1 IS NULL OR id = ?1 ORDER BY id");
  if (!st) return st.error();
  if (only) {
    st->bind(1, *only);
  } else {
    st->bind_null(1);
  }
  std::vector<Run> out;
  for (;;) {
    auto row = st->step();
    if (!row) return context(row.error(), "read runs");
    if (!*row) break;
    Run r;
    r.id = st->i64(0);
    r.label = st->text(1);
    r.started_at = st->text(2);
    r.finished_at = st->text(3);
    r.status = st->text(4);
    r.params_json = st->text(5);
    r.funnel.names = st->i64(6);
    r.funnel.lines_without_address = st->i64(7);
    r.funnel.unique_domains = st->i64(8);
    r.funnel.resolved_hosts = st->i64(9);
    r.funnel.sampled = st->i64(10);
    r.prepared = st->i64(11) != 0;
    r.funnel.excluded = st->i64(12);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sqlite_backend

namespace {

using sqlite_backend::SqliteStore;

bool is_memory(const std::string& path) {
  return path == ":memory:" || path.rfind("file::memory:", 0) == 0;
}

}  // namespace

Expected<std::unique_ptr<Store>> open_sqlite(const std::string& path, OpenMode mode) {
  bool create = mode == OpenMode::create;
  if (!create && !is_memory(path)) {
    struct stat sb {};
    if (::stat(path.c_str(), &sb) != 0) return make_error("no database at '" + path + "'");
    if (!S_ISREG(sb.st_mode)) return make_error("'" + path + "' is not a relayscope database");
  }
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_URI;
  auto db = sql::Db::open(path, flags);
  if (!db) return db.error();
  if (auto s = prepare_schema(**db, create); !s) {
    return make_error("'" + path + "': " + s.error().message);
  }
  return synchronized(std::unique_ptr<Store>(new SqliteStore(std::move(*db))));
}

Expected<std::unique_ptr<Store>> open_sqlite(const std::string& path) {
  return open_sqlite(path, OpenMode::create);
}

}  // namespace relayscope::store
