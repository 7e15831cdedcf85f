// What only SQLite has: WAL mode and the file's header (application id,
// user_version), migrating an old file, and clear refusals of missing,
// broken, foreign and newer files.
#include <sqlite3.h>

#include <fstream>

#include "store/schema.hpp"
#include "store_test_support.hpp"

namespace relayscope::store {
namespace {

// A database made before runs had a `prepared` column is migrated: a run
// with hosts, or a finished one, had finished preparing; a run without
// hosts had not.
TEST(SqliteStore, MigrationMarksOldRunsWithHostsPrepared) {
  TempDir dir;
  auto path = dir.file("v1.db");
  std::int64_t with_hosts = 0, without = 0, finished = 0;
  {
    auto db = open_or_die(path);
    ASSERT_TRUE(db);
    auto a = db->create_run(sample_run());
    auto b = db->create_run(sample_run());
    auto c = db->create_run(sample_run());
    ASSERT_TRUE(a && b && c);
    with_hosts = *a, without = *b, finished = *c;
    auto hosts = make_hosts(2);
    ASSERT_OK(db->add_hosts(with_hosts, hosts));
    ASSERT_OK(db->finish_run(finished, "done", "1999-07-03T11:00:00Z"));
  }
  {
    // Back to version 1: the column did not exist.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(
            raw,
            "DROP TABLE address_leases; ALTER TABLE hosts DROP COLUMN lease_owner; "
            "ALTER TABLE hosts DROP COLUMN lease_until; ALTER TABLE runs DROP COLUMN excluded; "
            "ALTER TABLE runs DROP COLUMN prepared; ALTER TABLE probes DROP COLUMN greylisted; "
            "ALTER TABLE probes DROP COLUMN first_code; ALTER TABLE probes DROP COLUMN "
            "first_reply; PRAGMA user_version = 1",
            nullptr, nullptr, nullptr),
        SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  auto runs = db->list_runs();
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 3u);
  for (const auto& r : *runs) {
    EXPECT_EQ(r.prepared, r.id != without) << "run " << r.id;
  }
}

TEST(SqliteStore, WalModeAndSchemaVersionOnDisk) {
  TempDir dir;
  auto path = dir.file("wal.db");
  ASSERT_TRUE(open_or_die(path));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto one = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sql, -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    std::string v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
  };
  EXPECT_EQ(one("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(one("PRAGMA user_version"), std::to_string(schema_version()));
  EXPECT_EQ(one("PRAGMA application_id"), std::to_string(0x52535350));
  sqlite3_close(raw);
  // Reopening an existing database migrates nothing and keeps the data.
  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->create_run(store::Run{}));
  db.reset();
  db = open_or_die(path);
  ASSERT_TRUE(db);
  auto runs = db->list_runs();
  ASSERT_TRUE(runs);
  EXPECT_EQ(runs->size(), 1u);
}

TEST(SqliteStore, RefusesMissingBrokenForeignAndNewerFiles) {
  TempDir dir;
  // Missing, in existing mode: an error, and no file is created.
  auto missing = dir.file("missing.db");
  auto m = open_sqlite(missing, OpenMode::existing);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("no database at"), std::string::npos);
  EXPECT_FALSE(fs::exists(missing));

  // Empty file in existing mode: not ours (and not given a schema).
  auto empty = dir.file("empty.db");
  std::ofstream(empty).close();
  auto e = open_sqlite(empty, OpenMode::existing);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("not a relayscope database"), std::string::npos);
  EXPECT_EQ(fs::file_size(empty), 0u);

  // A text file.
  auto text = dir.file("text.db");
  {
    std::ofstream f(text);
    f << std::string(4096, 'z') << "\nthis is not a database\n";
  }
  auto t = open_sqlite(text);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("not a relayscope database"), std::string::npos)
      << t.error().message;

  // Another application's SQLite file.
  auto foreign = dir.file("foreign.db");
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(foreign.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE x(a); INSERT INTO x VALUES (1);", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  auto f = open_sqlite(foreign);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("not a relayscope database"), std::string::npos);

  // A directory.
  auto d = open_sqlite(dir.file(""), OpenMode::existing);
  ASSERT_FALSE(d);

  // Ours but from a newer relayscope.
  auto newer = dir.file("newer.db");
  ASSERT_TRUE(open_or_die(newer));
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(newer.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  auto n = open_sqlite(newer, OpenMode::existing);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message.find("newer"), std::string::npos);
}

}  // namespace
}  // namespace relayscope::store
