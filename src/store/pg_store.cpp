// The Store on PostgreSQL (pg_schema.cpp): the same tables as SQLite's. A
// batch is one transaction; rows of a batch that need no id back (domains,
// resolutions, hosts' domains, transcript lines, variants) go in as arrays
// through unnest(), one statement per table, so a batch costs a few round
// trips, not one per row. Reads that span tables (host_rows, get_probes)
// run in one REPEATABLE READ snapshot, so a report read while workers write
// is consistent.
#include "store/pg_store.hpp"

#include "store/pg_schema.hpp"
#include "store/synchronized.hpp"

namespace relayscope::store {

namespace pg_backend {

Expected<std::int64_t> PgStore::create_run(const Run& run) {
  auto r =
      q("INSERT INTO runs (label, started_at, finished_at, status, params_json, names, "
        "lines_without_address, unique_domains, resolved_hosts, sampled, prepared, excluded) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        {p(run.label), p(run.started_at), p(run.finished_at),
         p(run.status.empty() ? std::string("running") : run.status),
         p(run.params_json.empty() ? std::string("{}") : run.params_json), p(run.funnel.names),
         p(run.funnel.lines_without_address), p(run.funnel.unique_domains),
         p(run.funnel.resolved_hosts), p(run.funnel.sampled), p(run.prepared),
         p(run.funnel.excluded)});
  if (!r) return context(r.error(), "create run");
  return r->i64(0, 0);
}

Status PgStore::finish_run(std::int64_t run_id, const std::string& status,
                           const std::string& finished_at) {
  auto r = q("UPDATE runs SET status = $2, finished_at = $3 WHERE id = $1",
             {p(run_id), p(status), p(finished_at)});
  if (!r) return context(r.error(), "finish run");
  if (r->affected() == 0) return no_run(run_id);
  return Ok{};
}

Status PgStore::mark_prepared(std::int64_t run_id, const Funnel& f) {
  auto r =
      q("UPDATE runs SET names = $2, lines_without_address = $3, unique_domains = $4, "
        "resolved_hosts = $5, sampled = $6, excluded = $7, prepared = 1 WHERE id = $1",
        {p(run_id), p(f.names), p(f.lines_without_address), p(f.unique_domains),
         p(f.resolved_hosts), p(f.sampled), p(f.excluded)});
  if (!r) return context(r.error(), "mark run prepared");
  if (r->affected() == 0) return no_run(run_id);
  return Ok{};
}

Status PgStore::discard_preparation(std::int64_t run_id) {
  auto run = get_run(run_id);
  if (!run) return run.error();
  if (run->prepared) {
    return make_error("run " + std::to_string(run_id) + " is prepared: its hosts are kept");
  }
  return in_transaction("discard preparation", [&]() -> Status {
    for (const char* sql :
         {"DELETE FROM hosts WHERE run_id = $1", "DELETE FROM resolutions WHERE run_id = $1",
          "DELETE FROM domains WHERE run_id = $1"}) {
      if (auto r = q(sql, {p(run_id)}); !r) return r.error();
    }
    return Ok{};
  });
}

Expected<Run> PgStore::get_run(std::int64_t run_id) {
  auto runs = select_runs(run_id);
  if (!runs) return runs.error();
  if (runs->empty()) return no_run(run_id);
  return std::move(runs->front());
}

Error PgStore::no_run(std::int64_t run_id) const {
  return make_error("no run with id " + std::to_string(run_id));
}

Status PgStore::check_run(std::int64_t run_id) {
  auto r = q("SELECT 1 FROM runs WHERE id = $1", {p(run_id)});
  if (!r) return r.error();
  if (r->rows() == 0) return no_run(run_id);
  return Ok{};
}

Expected<std::vector<Run>> PgStore::select_runs(std::optional<std::int64_t> only) {
  auto r =
      q("SELECT id, label, started_at, finished_at, status, params_json, names, "
        "lines_without_address, unique_domains, resolved_hosts, sampled, prepared, excluded "
        "FROM runs WHERE $1::bigint IS NULL OR id = $1 ORDER BY id",
        {only ? p(*only) : Param{}});
  if (!r) return context(r.error(), "read runs");
  std::vector<Run> out;
  for (int i = 0; i < r->rows(); ++i) {
    Run x;
    x.id = r->i64(i, 0);
    x.label = r->text(i, 1);
    x.started_at = r->text(i, 2);
    x.finished_at = r->text(i, 3);
    x.status = r->text(i, 4);
    x.params_json = r->text(i, 5);
    x.funnel.names = r->i64(i, 6);
    x.funnel.lines_without_address = r->i64(i, 7);
    x.funnel.unique_domains = r->i64(i, 8);
    x.funnel.resolved_hosts = r->i64(i, 9);
    x.funnel.sampled = r->i64(i, 10);
    x.prepared = r->i64(i, 11) != 0;
    x.funnel.excluded = r->i64(i, 12);
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace pg_backend

namespace {

using pg_backend::PgStore;

}  // namespace

bool is_postgres_uri(const std::string& db) {
  return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

Expected<std::unique_ptr<Store>> open_postgres(const std::string& uri, OpenMode mode) {
  auto c = pg::Conn::open(uri);
  if (!c) return c.error();
  if (auto s = prepare_pg_schema(**c, mode == OpenMode::create); !s) {
    return make_error("PostgreSQL database: " + s.error().message);
  }
  return synchronized(std::unique_ptr<Store>(new PgStore(std::move(*c))));
}

Expected<std::unique_ptr<Store>> open_store(const std::string& db, OpenMode mode) {
  if (is_postgres_uri(db)) return open_postgres(db, mode);
  return open_sqlite(db, mode);
}

}  // namespace relayscope::store
