// The results database's schema as a list of migrations: PRAGMA user_version
// counts those applied, PRAGMA application_id marks the file as ours, so a
// foreign SQLite file is refused rather than written into.
#pragma once

#include <string>

#include "common/expected.hpp"
#include "store/sqlite_db.hpp"

namespace relayscope::store {

inline constexpr int kApplicationId = 0x52535350;  // "RSSP"

// The migrations are written once, in SQL that both engines take, with a
// small mapping for PostgreSQL (types, identity columns): a later migration
// of plain `ALTER TABLE x ADD COLUMN y INTEGER NOT NULL DEFAULT 0` applies to both.
enum class Dialect { sqlite, postgres };

// Migration `index` (0-based: index 0 makes version 1) in the dialect's SQL.
std::string migration_sql(int index, Dialect dialect);

// Number of migrations this build knows (the newest schema version).
int schema_version();

// Sets the connection's pragmas, checks that the file is a relayscope
// database (or empty), and applies any missing migrations in one transaction.
// create: whether an empty file may be given a schema.
Status prepare_schema(sql::Db& db, bool create);

}  // namespace relayscope::store
