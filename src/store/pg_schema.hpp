// The schema on PostgreSQL: the same ordered migrations as SQLite's
// (schema.cpp, mapped to PostgreSQL's dialect), counted in a table
// relayscope_meta that also marks the database as ours, applied under an
// advisory lock so that workers opening one database at once migrate it once.
#pragma once

#include "common/expected.hpp"
#include "store/pg_conn.hpp"

namespace relayscope::store {

// create: whether an empty database may be given a schema.
Status prepare_pg_schema(pg::Conn& conn, bool create);

}  // namespace relayscope::store
