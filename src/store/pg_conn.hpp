// A thin RAII layer over libpq: one connection, statements run with text
// parameters (prepared once per connection), results read as text, and a
// transaction guard. Errors come back as Error values naming the operation;
// `lost()` tells a broken connection (worth a retry) from a refused statement.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/expected.hpp"

struct pg_conn;
struct pg_result;

namespace relayscope::store::pg {

// A parameter: text, or NULL when empty optional.
using Param = std::optional<std::string>;

inline Param p(std::int64_t v) {
  return std::to_string(v);
}
inline Param p(int v) {
  return std::to_string(v);
}
inline Param p(bool v) {
  return std::string(v ? "1" : "0");
}
// Text is always stored encoded (encode_text below) and read back decoded.
std::string encode_text(std::string_view s);
inline Param p(const std::string& v) {
  return encode_text(v);
}
inline Param p(const char* v) {
  return encode_text(v);
}

class Result {
 public:
  explicit Result(pg_result* r) : r_(r) {}
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;
  ~Result();

  int rows() const;
  std::string text(int row, int col) const;
  std::int64_t i64(int row, int col) const;
  bool is_null(int row, int col) const;
  // Rows changed by INSERT/UPDATE/DELETE.
  std::int64_t affected() const;

 private:
  pg_result* r_;
};

class Conn {
 public:
  // uri: "postgresql://..." or "postgres://...": libpq fills what it leaves
  // out from PGHOST, PGUSER, PGPASSFILE and the rest of the environment.
  static Expected<std::unique_ptr<Conn>> open(const std::string& uri);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn();

  // A statement with parameters $1..$n, prepared once on this connection.
  Expected<Result> run(const std::string& sql, const std::vector<Param>& params = {});
  // One or more statements without parameters (migrations, BEGIN, ...).
  Status exec(const std::string& sql);
  // The connection broke (server gone, network): a retry may succeed.
  bool lost() const;
  // Reconnects a lost connection; prepared statements are prepared again.
  Status reset();
  // SQLSTATE of the last failure ("23505" unique violation...), or "".
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  explicit Conn(pg_conn* c) : c_(c) {}
  Error failure(pg_result* r, std::string_view what);
  pg_conn* c_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
  std::string sqlstate_;
};

// BEGIN ... COMMIT, or ROLLBACK when it goes out of scope uncommitted.
class Transaction {
 public:
  static Expected<std::unique_ptr<Transaction>> begin(Conn& c);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Conn& c) : c_(c) {}
  Conn& c_;
  bool done_ = false;
};

// PostgreSQL's text type holds neither NUL nor invalid UTF-8, which a
// transcript may hold (a server's garbage): text is stored with `\` written
// `\\`, and NUL, control bytes and bytes outside valid UTF-8 as `\xHH`, and read
// back exactly. Ordinary text (no backslash, valid UTF-8) is stored as is.
std::string decode_text(std::string_view s);

// An array literal ('{"a","b"}') of already encoded texts, for unnest().
std::string array_literal(const std::vector<std::string>& items);

}  // namespace relayscope::store::pg
