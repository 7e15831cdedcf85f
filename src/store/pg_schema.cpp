// See pg_schema.hpp. DDL is transactional in PostgreSQL: a migration that
// fails leaves the database as it was.
#include "store/pg_schema.hpp"

#include <string>

#include "store/schema.hpp"

namespace relayscope::store {

namespace {

Expected<std::int64_t> one_int(pg::Conn& c, const std::string& sql) {
  auto r = c.run(sql);
  if (!r) return r.error();
  return r->rows() > 0 && !r->is_null(0, 0) ? r->i64(0, 0) : 0;
}

}  // namespace

Status prepare_pg_schema(pg::Conn& c, bool create) {
  const std::string not_ours = "not a relayscope database";
  if (auto s = c.exec("SET client_min_messages = warning"); !s) return s;
  auto tx = pg::Transaction::begin(c);
  if (!tx) return tx.error();
  // One migrator at a time; the others find the work done when they get the lock.
  if (auto s = c.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kApplicationId) + ")"); !s)
    return s;
  auto has_meta = one_int(c,
                          "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                          "AND tablename = 'relayscope_meta'");
  if (!has_meta) return has_meta.error();
  std::int64_t version = 0;
  if (*has_meta == 0) {
    auto tables = one_int(c, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()");
    if (!tables) return tables.error();
    if (*tables > 0)
      return make_error(not_ours + " (a PostgreSQL database of another application)");
    if (!create) return make_error(not_ours + " (an empty database)");
    if (auto s = c.exec("CREATE TABLE relayscope_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
                        "INSERT INTO relayscope_meta VALUES ('application', 'relayscope'), "
                        "('schema_version', '0')");
        !s) {
      return s;
    }
  } else {
    auto app = c.run("SELECT value FROM relayscope_meta WHERE name = 'application'");
    if (!app) return app.error();
    if (app->rows() != 1 || app->text(0, 0) != "relayscope") return make_error(not_ours);
    auto v = one_int(c, "SELECT value::bigint FROM relayscope_meta WHERE name = 'schema_version'");
    if (!v) return v.error();
    version = *v;
  }
  if (version > schema_version()) {
    return make_error("database schema version " + std::to_string(version) +
                      " is newer than this relayscope understands (" +
                      std::to_string(schema_version()) + ")");
  }
  if (version == schema_version()) return (*tx)->commit();
  for (auto i = version; i < schema_version(); ++i) {
    if (auto s = c.exec(migration_sql(static_cast<int>(i), Dialect::postgres)); !s) {
      return make_error("migration to version " + std::to_string(i + 1) + ": " + s.error().message);
    }
  }
  auto set = c.run("UPDATE relayscope_meta SET value = $1 WHERE name = 'schema_version'",
                   {std::to_string(schema_version())});
  if (!set) return set.error();
  return (*tx)->commit();
}

}  // namespace relayscope::store
