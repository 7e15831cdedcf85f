// The Store on PostgreSQL (what it is and how it writes: pg_store.cpp), one class
// whose members are defined in four files, one part each:
//   pg_store.cpp          runs, and opening the database;
//   pg_store_hosts.cpp    domains, resolutions and hosts;
//   pg_store_results.cpp  probes with their lines and variants, arrivals, and
//                    the hosts table of reports;
//   pg_store_claims.cpp   leases: hosts and addresses claimed by --join workers.
#pragma once

#include <map>
#include <set>

#include "store/json_list.hpp"
#include "store/pg_conn.hpp"
#include "store/store.hpp"

namespace relayscope::store::pg_backend {

using pg::Conn;
using pg::p;
using pg::Param;
using pg::Result;

inline Error context(const Error& e, const std::string& what) {
  return make_error(what + ": " + e.message);
}

// Array parameters for unnest(): texts are encoded like every text.
class Column {
 public:
  void add(const std::string& v) { items_.push_back(pg::encode_text(v)); }
  void add(std::int64_t v) { items_.push_back(std::to_string(v)); }
  Param param() const { return pg::array_literal(items_); }
  std::size_t size() const { return items_.size(); }

 private:
  std::vector<std::string> items_;
};

// The database's clock in Unix milliseconds: leases compare against it.
inline constexpr const char* kNowMs = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

class PgStore final : public Store {
 public:
  explicit PgStore(std::unique_ptr<Conn> c) : c_(std::move(c)) {}

  std::string backend() const override { return "postgresql"; }
  bool connection_lost() const override { return c_->lost(); }
  Status reconnect() override { return c_->reset(); }

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
  Expected<Result> q(const std::string& sql, const std::vector<Param>& params = {}) {
    return c_->run(sql, params);
  }

  Error no_run(std::int64_t run_id) const;

  Status check_run(std::int64_t run_id);

  template <class F>
  Status in_transaction(const std::string& what, F&& body) {
    auto tx = pg::Transaction::begin(*c_);
    if (!tx) return context(tx.error(), what);
    if (auto s = body(); !s) return context(s.error(), what);
    if (auto s = (*tx)->commit(); !s) return context(s.error(), what);
    return Ok{};
  }

  // Several reads seeing one state of the database while others write.
  template <class F>
  Status in_snapshot(F&& body) {
    if (auto s = c_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) return s;
    auto s = body();
    if (!c_->lost()) (void)c_->exec(s ? "COMMIT" : "ROLLBACK");
    return s;
  }

  // Inserts the probes with their lines and variants: ids drawn from the
  // probes' sequence first, then one statement per table for the batch. With
  // `owner`, a probe of a host not leased by owner, or already probed, is
  // left out and its host id put in `discarded`.
  Status insert_probes(std::int64_t run_id, const std::vector<Probe>& probes,
                       const std::string* owner, std::vector<std::int64_t>* discarded);

  Expected<std::vector<Host>> load_hosts(const std::string& where,
                                         const std::vector<Param>& params);

  template <class F>
  Status read_variants(std::int64_t run_id, F&& each) {
    auto r =
        q("SELECT v.probe_id, v.name, v.mail_from, v.rcpt_to, v.outcome, v.code, v.token "
          "FROM variants v JOIN probes p ON p.id = v.probe_id WHERE p.run_id = $1 "
          "ORDER BY v.probe_id, v.seq",
          {p(run_id)});
    if (!r) return context(r.error(), "read variants");
    for (int i = 0; i < r->rows(); ++i) {
      VariantResult v;
      v.name = r->text(i, 1);
      v.mail_from = r->text(i, 2);
      v.rcpt_to = r->text(i, 3);
      v.outcome = r->text(i, 4);
      v.code = static_cast<int>(r->i64(i, 5));
      v.token = r->text(i, 6);
      each(r->i64(i, 0), std::move(v));
    }
    return Ok{};
  }

  Expected<std::vector<Run>> select_runs(std::optional<std::int64_t> only);

  std::unique_ptr<Conn> c_;
};

}  // namespace relayscope::store::pg_backend
