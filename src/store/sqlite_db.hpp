// A thin RAII layer over the SQLite C API: one connection, a cache of
// prepared statements, and a transaction guard. Errors come back as Error
// values naming the operation. Not thread-safe: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/expected.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace relayscope::store::sql {

class Db;

// A cached statement in use: bind, step, read columns; reset when it goes.
class Stmt {
 public:
  Stmt(Db& db, sqlite3_stmt* s) : db_(&db), s_(s) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Parameters are 1-based, as in SQLite.
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Stmt& bind(int i, std::string_view v);  // copied by SQLite
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind_null(int i);

  // A row: true; done: false; failure: an Error.
  Expected<bool> step();
  // Runs to completion and resets, for statements that return no rows:
  // the same Stmt may then be bound and run again (batches).
  Status run();

  // Columns are 0-based, as in SQLite.
  std::int64_t i64(int col) const;
  int i32(int col) const { return static_cast<int>(i64(col)); }
  std::string text(int col) const;
  bool is_null(int col) const;

 private:
  Db* db_;
  sqlite3_stmt* s_;
  Status bind_status_ = Ok{};
};

class Db {
 public:
  // flags: SQLITE_OPEN_* (create or not).
  static Expected<std::unique_ptr<Db>> open(const std::string& path, int flags);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // A cached prepared statement for this SQL text.
  Expected<Stmt> prepare(const std::string& sql);
  // Runs one or more statements with no parameters and no rows wanted.
  Status exec(const std::string& sql);
  std::int64_t last_insert_rowid() const;
  std::int64_t changes() const;
  std::string errmsg() const;
  int errcode() const;
  Error error(std::string_view what) const;
  sqlite3* handle() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when it goes out of scope
// uncommitted: a failed batch leaves nothing half-written.
class Transaction {
 public:
  static Expected<std::unique_ptr<Transaction>> begin(Db& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Db& db) : db_(db) {}
  Db& db_;
  bool done_ = false;
};

}  // namespace relayscope::store::sql
