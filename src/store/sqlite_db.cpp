// See sqlite_db.hpp. Statements are prepared once per connection and reset
// (not finalised) after each use, which is what keeps batch inserts fast.
#include "store/sqlite_db.hpp"

#include <sqlite3.h>

namespace relayscope::store::sql {

Stmt::~Stmt() {
  if (s_) {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  if (bind_status_ && sqlite3_bind_int64(s_, i, v) != SQLITE_OK) bind_status_ = db_->error("bind");
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  if (bind_status_ &&
      sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK) {
    bind_status_ = db_->error("bind");
  }
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (bind_status_ && sqlite3_bind_null(s_, i) != SQLITE_OK) bind_status_ = db_->error("bind");
  return *this;
}

Expected<bool> Stmt::step() {
  if (!bind_status_) return bind_status_.error();
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error(sqlite3_sql(s_));
}

Status Stmt::run() {
  for (;;) {
    auto r = step();
    if (!r) {
      sqlite3_reset(s_);
      return r.error();
    }
    if (!*r) break;
  }
  // Ready for the next row of a batch: bind again and run again.
  sqlite3_reset(s_);
  return Ok{};
}

std::int64_t Stmt::i64(int col) const {
  return sqlite3_column_int64(s_, col);
}

std::string Stmt::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  if (!p) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)));
}

bool Stmt::is_null(int col) const {
  return sqlite3_column_type(s_, col) == SQLITE_NULL;
}

Expected<std::unique_ptr<Db>> Db::open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return make_error("cannot open database '" + path + "': " + msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

Expected<Stmt> Db::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1),
                           SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      return error("prepare");
    }
    it = cache_.emplace(sql, s).first;
  }
  return Stmt(*this, it->second);
}

Status Db::exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : errmsg();
    sqlite3_free(msg);
    return make_error("database: " + m);
  }
  return Ok{};
}

std::int64_t Db::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}
std::int64_t Db::changes() const {
  return sqlite3_changes64(db_);
}
std::string Db::errmsg() const {
  return sqlite3_errmsg(db_);
}
int Db::errcode() const {
  return sqlite3_extended_errcode(db_);
}

Error Db::error(std::string_view what) const {
  return make_error("database: " + errmsg() + " (" + std::string(what.substr(0, 80)) + ")");
}

Expected<std::unique_ptr<Transaction>> Transaction::begin(Db& db) {
  auto st = db.prepare("BEGIN IMMEDIATE");
  if (!st) return st.error();
  if (auto r = st->run(); !r) return r.error();
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (!done_) (void)db_.exec("ROLLBACK");
}

Status Transaction::commit() {
  auto st = db_.prepare("COMMIT");
  if (!st) return st.error();
  auto r = st->run();
  if (r) done_ = true;
  return r;
}

}  // namespace relayscope::store::sql
