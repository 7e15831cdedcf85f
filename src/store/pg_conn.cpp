// See pg_conn.hpp. Statements are prepared once per connection (named s1,
// s2, ...) so that a batch of inserts is parsed and planned once.
#include "store/pg_conn.hpp"

#include <libpq-fe.h>

#include <cstdlib>

namespace relayscope::store::pg {

Result::~Result() {
  if (r_) PQclear(r_);
}

int Result::rows() const {
  return PQntuples(r_);
}

std::string Result::text(int row, int col) const {
  return decode_text(std::string_view(PQgetvalue(r_, row, col),
                                      static_cast<std::size_t>(PQgetlength(r_, row, col))));
}

std::int64_t Result::i64(int row, int col) const {
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}

bool Result::is_null(int row, int col) const {
  return PQgetisnull(r_, row, col) != 0;
}

std::int64_t Result::affected() const {
  return std::strtoll(PQcmdTuples(r_), nullptr, 10);
}

namespace {

// libpq's notices (e.g. "there is no transaction in progress") are not ours to print.
void quiet_notices(void*, const PGresult*) {}

}  // namespace

Expected<std::unique_ptr<Conn>> Conn::open(const std::string& uri) {
  PGconn* c = PQconnectdb(uri.c_str());
  if (!c) return make_error("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(c);
    return make_error("cannot connect to PostgreSQL: " + msg);
  }
  PQsetNoticeReceiver(c, quiet_notices, nullptr);
  return std::unique_ptr<Conn>(new Conn(c));
}

Conn::~Conn() {
  PQfinish(c_);
}

Error Conn::failure(PGresult* r, std::string_view what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  sqlstate_ = state ? state : "";
  std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c_);
  if (msg.empty()) msg = PQerrorMessage(c_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (r) PQclear(r);
  return make_error("database: " + msg + " (" + std::string(what.substr(0, 80)) + ")");
}

Expected<Result> Conn::run(const std::string& sql, const std::vector<Param>& params) {
  sqlstate_.clear();
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    PGresult* r = PQprepare(c_, name.c_str(), sql.c_str(), 0, nullptr);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) return failure(r, sql);
    PQclear(r);
    it = prepared_.emplace(sql, name).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& v : params) values.push_back(v ? v->c_str() : nullptr);
  PGresult* r = PQexecPrepared(c_, it->second.c_str(), static_cast<int>(values.size()),
                               values.data(), nullptr, nullptr, 0);
  auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return failure(r, sql);
  return Result(r);
}

Status Conn::exec(const std::string& sql) {
  sqlstate_.clear();
  PGresult* r = PQexec(c_, sql.c_str());
  auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return failure(r, sql);
  PQclear(r);
  return Ok{};
}

bool Conn::lost() const {
  return PQstatus(c_) != CONNECTION_OK;
}

Status Conn::reset() {
  PQreset(c_);
  prepared_.clear();
  if (PQstatus(c_) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return make_error("cannot reconnect to PostgreSQL: " + msg);
  }
  return Ok{};
}

Expected<std::unique_ptr<Transaction>> Transaction::begin(Conn& c) {
  if (auto s = c.exec("BEGIN"); !s) return s.error();
  return std::unique_ptr<Transaction>(new Transaction(c));
}

Transaction::~Transaction() {
  if (!done_ && !c_.lost()) (void)c_.exec("ROLLBACK");
}

Status Transaction::commit() {
  auto s = c_.exec("COMMIT");
  done_ = true;  // a failed COMMIT has rolled back already
  return s;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlongs,
// no surrogates, nothing past U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  return n;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string encode_text(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    auto n = c == '\0' ? 0 : utf8_length(s, i);
    if (n == 0) {
      auto u = static_cast<unsigned char>(c);
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 0xF];
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string decode_text(std::string_view s) {
  if (s.find('\\') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
    } else if (s[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (s[i + 1] == 'x' && i + 3 < s.size() && hex(s[i + 2]) >= 0 && hex(s[i + 3]) >= 0) {
      out += static_cast<char>(hex(s[i + 2]) * 16 + hex(s[i + 3]));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace relayscope::store::pg
