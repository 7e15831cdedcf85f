// The Store on SQLite (what it is and how it writes: sqlite_store.cpp), one class
// whose members are defined in four files, one part each:
//   sqlite_store.cpp          runs, and opening the database;
//   sqlite_store_hosts.cpp    domains, resolutions and hosts;
//   sqlite_store_results.cpp  probes with their lines and variants, arrivals, and
//                    the hosts table of reports;
//   sqlite_store_claims.cpp   leases: hosts and addresses claimed by --join workers.
#pragma once

#include <sqlite3.h>

#include <map>
#include <set>

#include "store/json_list.hpp"
#include "store/sqlite_db.hpp"
#include "store/store.hpp"

namespace relayscope::store::sqlite_backend {

using sql::Db;
using sql::Transaction;

// The clock in Unix milliseconds: leases compare against it.
inline constexpr const char* kNowMs =
    "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

inline Error context(const Error& e, const std::string& what) {
  return make_error(what + ": " + e.message);
}

// Runs `body` inside one transaction; any failure rolls the whole batch back.
template <class F>
Status in_transaction(Db& db, const std::string& what, F&& body) {
  auto tx = Transaction::begin(db);
  if (!tx) return context(tx.error(), what);
  if (auto s = body(); !s) return context(s.error(), what);
  if (auto s = (*tx)->commit(); !s) return context(s.error(), what);
  return Ok{};
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  Expected<std::int64_t> create_run(const Run& run) override;

  Status finish_run(std::int64_t run_id, const std::string& status,
                    const std::string& finished_at) override;

  Status mark_prepared(std::int64_t run_id, const Funnel& f) override;

  Status discard_preparation(std::int64_t run_id) override;

  Expected<Run> get_run(std::int64_t run_id) override;

  Expected<std::vector<Run>> list_runs() override { return select_runs(std::nullopt); }

  Status add_domains(std::int64_t run_id, const std::vector<Domain>& domains) override;

  Status add_resolutions(std::int64_t run_id, const std::vector<Resolution>& rs) override;

  Status add_hosts(std::int64_t run_id, std::vector<Host>& hosts) override;

  Expected<std::vector<Host>> get_hosts(std::int64_t run_id, bool sampled_only) override;

  Expected<std::vector<Resolution>> get_resolutions(std::int64_t run_id) override;

  Status add_probes(std::int64_t run_id, const std::vector<Probe>& probes) override;

  Expected<std::vector<std::int64_t>> probed_host_ids(std::int64_t run_id) override;

  Expected<std::vector<Probe>> get_probes(std::int64_t run_id, bool with_transcripts) override;

  Status add_arrival(const Arrival& a) override;

  Expected<bool> token_known(const std::string& token) override;

  Expected<std::optional<TokenOwner>> token_owner(const std::string& token) override;

  Expected<std::vector<Arrival>> get_arrivals() override;

  Expected<std::vector<HostRow>> host_rows(std::int64_t run_id) override;

  std::string backend() const override { return "sqlite"; }

  // On SQLite `--join` is `--resume`: one machine, one writer at a time
  // (BEGIN IMMEDIATE), so leases only keep the same contract as PostgreSQL's.
  Expected<std::vector<Host>> claim_hosts(std::int64_t run_id, const std::string& owner,
                                          std::size_t n, std::int64_t lease_ms) override;

  Status renew_leases(std::int64_t run_id, const std::string& owner,
                      std::int64_t lease_ms) override;

  Expected<std::vector<std::int64_t>> add_leased_probes(std::int64_t run_id,
                                                        const std::string& owner,
                                                        const std::vector<Probe>& probes) override;

  Expected<bool> claim_address(std::int64_t run_id, const std::string& ip, const std::string& owner,
                               std::int64_t lease_ms) override;

  Status release_address(std::int64_t run_id, const std::string& ip,
                         const std::string& owner) override;

  Expected<std::int64_t> unprobed_count(std::int64_t run_id) override;

 private:
  Error no_run(std::int64_t run_id) const;

  Status check_run(std::int64_t run_id);

  template <class F>
  Status read_variants(std::int64_t run_id, F&& each) {
    auto st = db_->prepare(
        "SELECT v.probe_id, v.name, v.mail_from, v.rcpt_to, v.outcome, v.code, v.token "
        "FROM variants v JOIN probes p ON p.id = v.probe_id WHERE p.run_id = ?1 "
        "ORDER BY v.probe_id, v.seq");
    if (!st) return st.error();
    st->bind(1, run_id);
    for (;;) {
      auto row = st->step();
      if (!row) return context(row.error(), "read variants");
      if (!*row) break;
      VariantResult v;
      v.name = st->text(1);
      v.mail_from = st->text(2);
      v.rcpt_to = st->text(3);
      v.outcome = st->text(4);
      v.code = st->i32(5);
      v.token = st->text(6);
      each(st->i64(0), std::move(v));
    }
    return Ok{};
  }

  Expected<std::vector<Run>> select_runs(std::optional<std::int64_t> only);

  std::unique_ptr<Db> db_;
};

}  // namespace relayscope::store::sqlite_backend
