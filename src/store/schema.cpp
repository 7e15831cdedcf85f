// See schema.hpp. A migration is appended, never edited: a database made by
// an older build is brought forward step by step on open.
#include "store/schema.hpp"

#include <array>
#include <regex>
#include <string>

namespace relayscope::store {

namespace {

// Version 1: the survey, its transcripts and trick variants, the collector's arrivals.
constexpr const char* kV1 = R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  label TEXT NOT NULL DEFAULT '',
  started_at TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'running',
  params_json TEXT NOT NULL DEFAULT '{}',
  names INTEGER NOT NULL DEFAULT 0,
  lines_without_address INTEGER NOT NULL DEFAULT 0,
  unique_domains INTEGER NOT NULL DEFAULT 0,
  resolved_hosts INTEGER NOT NULL DEFAULT 0,
  sampled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE domains (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  names INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE resolutions (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  domain TEXT NOT NULL,
  status TEXT NOT NULL,
  mx_host TEXT NOT NULL DEFAULT '',
  mx_preference INTEGER NOT NULL DEFAULT -1,
  ip TEXT NOT NULL DEFAULT '',
  fallback_ips TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, domain)
) WITHOUT ROWID;
CREATE TABLE hosts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  mx_host TEXT NOT NULL DEFAULT '',
  fallback_ips TEXT NOT NULL DEFAULT '',
  sampled INTEGER NOT NULL DEFAULT 0,
  UNIQUE (run_id, ip)
);
CREATE TABLE host_domains (
  host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  domain TEXT NOT NULL,
  PRIMARY KEY (host_id, position)
) WITHOUT ROWID;
CREATE TABLE probes (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  host_id INTEGER REFERENCES hosts(id) ON DELETE CASCADE,
  ip TEXT NOT NULL DEFAULT '',
  domain TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL DEFAULT '',
  code INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  token TEXT NOT NULL DEFAULT '',
  started_at TEXT NOT NULL DEFAULT '',
  duration_us INTEGER NOT NULL DEFAULT 0,
  greeting_host TEXT NOT NULL DEFAULT '',
  esmtp INTEGER NOT NULL DEFAULT 0,
  starttls_offered INTEGER NOT NULL DEFAULT 0
);
-- A host is probed at most once per run: what makes --resume safe.
CREATE UNIQUE INDEX probes_run_host ON probes(run_id, host_id) WHERE host_id IS NOT NULL;
CREATE INDEX probes_token ON probes(token) WHERE token <> '';
CREATE TABLE transcript_lines (
  probe_id INTEGER NOT NULL REFERENCES probes(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  t_us INTEGER NOT NULL,
  direction TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (probe_id, seq)
) WITHOUT ROWID;
CREATE TABLE variants (
  probe_id INTEGER NOT NULL REFERENCES probes(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  mail_from TEXT NOT NULL DEFAULT '',
  rcpt_to TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL DEFAULT '',
  code INTEGER NOT NULL DEFAULT 0,
  token TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (probe_id, seq)
) WITHOUT ROWID;
CREATE INDEX variants_token ON variants(token) WHERE token <> '';
CREATE TABLE arrivals (
  id INTEGER PRIMARY KEY,
  token TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  received_at TEXT NOT NULL DEFAULT '',
  client_ip TEXT NOT NULL DEFAULT '',
  mail_from TEXT NOT NULL DEFAULT '',
  rcpt_to TEXT NOT NULL DEFAULT '',
  message_path TEXT NOT NULL DEFAULT ''
);
CREATE INDEX arrivals_token ON arrivals(token) WHERE token <> '';
)sql";

// Version 2: whether a run finished preparing (read, resolved, sampled, hosts
// stored), so that resuming a run stopped before that prepares it again.
// Older runs count as prepared when they have hosts or are done.
constexpr const char* kV2 = R"sql(
ALTER TABLE runs ADD COLUMN prepared INTEGER NOT NULL DEFAULT 0;
UPDATE runs SET prepared = 1
  WHERE status = 'done' OR EXISTS (SELECT 1 FROM hosts WHERE hosts.run_id = runs.id);
)sql";

// Version 3: leases for `survey --join` workers sharing one run. A worker
// owns a host while lease_until (Unix milliseconds) lies ahead; a lease that
// ran out may be taken by another worker. Fallback addresses of MX hosts are
// claimed in address_leases, so no two workers connect to one address at once.
constexpr const char* kV3 = R"sql(
ALTER TABLE hosts ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
CREATE TABLE address_leases (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, ip)
);
)sql";

// Version 4: the funnel's excluded addresses (excluded, out of scope, or of an
// address family not probed), dropped before the sample and never an outcome.
constexpr const char* kV4 = R"sql(
ALTER TABLE runs ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 5: greylisting (--greylist-retry). A probe whose first try got a
// 4xx at RCPT TO was retried after the delay: its outcome is the retry's,
// the first try's reply code and line are kept beside it.
constexpr const char* kV5 = R"sql(
ALTER TABLE probes ADD COLUMN greylisted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE probes ADD COLUMN first_code INTEGER NOT NULL DEFAULT 0;
ALTER TABLE probes ADD COLUMN first_reply TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array<const char*, 5> kMigrations = {kV1, kV2, kV3, kV4, kV5};

Expected<std::int64_t> pragma_int(sql::Db& db, const char* sql) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  return *row ? st->i64(0) : 0;
}

}  // namespace

std::string migration_sql(int index, Dialect dialect) {
  std::string sql = kMigrations.at(static_cast<std::size_t>(index));
  if (dialect == Dialect::sqlite) return sql;
  // PostgreSQL: 64-bit integers everywhere (SQLite's INTEGER is 64-bit), an
  // identity column where SQLite's rowid alias gives ids, no WITHOUT ROWID.
  static const std::regex integer("\\bINTEGER\\b");
  static const std::regex rowid_alias("BIGINT PRIMARY KEY");
  static const std::regex without_rowid("\\)\\s*WITHOUT ROWID");
  sql = std::regex_replace(sql, integer, "BIGINT");
  sql = std::regex_replace(sql, rowid_alias, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  return std::regex_replace(sql, without_rowid, ")");
}

int schema_version() {
  return static_cast<int>(kMigrations.size());
}

Status prepare_schema(sql::Db& db, bool create) {
  const std::string not_ours = "not a relayscope database";
  // First, before any read: the collector and a report may share the file
  // with a survey (or two processes may create it at once), so wait on locks.
  if (auto s = db.exec("PRAGMA busy_timeout = 5000"); !s) return s;
  // The first read of the header tells a foreign or broken file apart.
  auto app = pragma_int(db, "PRAGMA application_id");
  if (!app) return make_error(not_ours + " (" + db.errmsg() + ")");
  auto version = pragma_int(db, "PRAGMA user_version");
  if (!version) return make_error(not_ours + " (" + db.errmsg() + ")");
  auto tables = pragma_int(db, "SELECT count(*) FROM sqlite_schema");
  if (!tables) return make_error(not_ours + " (" + db.errmsg() + ")");

  bool empty = *app == 0 && *version == 0 && *tables == 0;
  if (!empty && *app != kApplicationId) {
    return make_error(not_ours + " (a SQLite file of another application)");
  }
  if (empty && !create) return make_error(not_ours + " (an empty database)");
  if (*version > schema_version()) {
    return make_error("database schema version " + std::to_string(*version) +
                      " is newer than this relayscope understands (" +
                      std::to_string(schema_version()) + ")");
  }

  for (const char* p : {"PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"}) {
    if (auto s = db.exec(p); !s) return s;
  }
  // WAL: readers (report) do not block the writer (survey, collector). An
  // in-memory database answers "memory", which is fine.
  if (auto s = db.exec("PRAGMA journal_mode = WAL"); !s) return s;

  if (*version == schema_version()) return Ok{};
  auto tx = sql::Transaction::begin(db);
  if (!tx) return tx.error();
  // Read again inside the write lock: another process may have migrated meanwhile.
  auto v = pragma_int(db, "PRAGMA user_version");
  if (!v) return v.error();
  for (auto i = *v; i < schema_version(); ++i) {
    if (auto s = db.exec(migration_sql(static_cast<int>(i), Dialect::sqlite)); !s) return s;
  }
  if (auto s = db.exec("PRAGMA application_id = " + std::to_string(kApplicationId)); !s) return s;
  if (auto s = db.exec("PRAGMA user_version = " + std::to_string(schema_version())); !s) return s;
  return (*tx)->commit();
}

}  // namespace relayscope::store
