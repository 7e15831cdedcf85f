// The Store on SQLite (schema.cpp): prepared statements, one IMMEDIATE
// transaction per batch, so a killed survey leaves whole batches or nothing.
// Lists of addresses are kept as JSON arrays in one column.
#include <sqlite3.h>
#include <sys/stat.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "store/schema.hpp"
#include "store/sqlite_db.hpp"
#include "store/store.hpp"
#include "store/synchronized.hpp"

namespace relayscope::store {

namespace {

using sql::Db;
using sql::Transaction;

// The clock in Unix milliseconds: leases compare against it.
constexpr const char* kNowMs = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

std::string to_json_list(const std::vector<std::string>& v) {
  if (v.empty()) return {};
  return nlohmann::json(v).dump();
}

std::vector<std::string> from_json_list(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

Error context(const Error& e, const std::string& what) {
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

  Expected<std::int64_t> create_run(const Run& run) override {
    auto st = db_->prepare(
        "INSERT INTO runs (label, started_at, finished_at, status, params_json, names, "
        "lines_without_address, unique_domains, resolved_hosts, sampled, prepared, excluded) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!st) return st.error();
    st->bind(1, run.label)
        .bind(2, run.started_at)
        .bind(3, run.finished_at)
        .bind(4, run.status.empty() ? std::string("running") : run.status)
        .bind(5, run.params_json.empty() ? std::string("{}") : run.params_json)
        .bind(6, run.funnel.names)
        .bind(7, run.funnel.lines_without_address)
        .bind(8, run.funnel.unique_domains)
        .bind(9, run.funnel.resolved_hosts)
        .bind(10, run.funnel.sampled)
        .bind(11, run.prepared)
        .bind(12, run.funnel.excluded);
    if (auto s = st->run(); !s) return context(s.error(), "create run");
    return db_->last_insert_rowid();
  }

  Status finish_run(std::int64_t run_id, const std::string& status,
                    const std::string& finished_at) override {
    auto st = db_->prepare("UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1");
    if (!st) return st.error();
    st->bind(1, run_id).bind(2, status).bind(3, finished_at);
    if (auto s = st->run(); !s) return context(s.error(), "finish run");
    if (db_->changes() == 0) return no_run(run_id);
    return Ok{};
  }

  Status mark_prepared(std::int64_t run_id, const Funnel& f) override {
    auto st = db_->prepare(
        "UPDATE runs SET names = ?2, lines_without_address = ?3, unique_domains = ?4, "
        "resolved_hosts = ?5, sampled = ?6, excluded = ?7, prepared = 1 WHERE id = ?1");
    if (!st) return st.error();
    st->bind(1, run_id)
        .bind(2, f.names)
        .bind(3, f.lines_without_address)
        .bind(4, f.unique_domains)
        .bind(5, f.resolved_hosts)
        .bind(6, f.sampled)
        .bind(7, f.excluded);
    if (auto s = st->run(); !s) return context(s.error(), "mark run prepared");
    if (db_->changes() == 0) return no_run(run_id);
    return Ok{};
  }

  Status discard_preparation(std::int64_t run_id) override {
    auto run = get_run(run_id);
    if (!run) return run.error();
    if (run->prepared) {
      return make_error("run " + std::to_string(run_id) + " is prepared: its hosts are kept");
    }
    return in_transaction(*db_, "discard preparation", [&]() -> Status {
      // Hosts take their host_domains (and any probe) with them (ON DELETE CASCADE).
      for (const char* sql :
           {"DELETE FROM hosts WHERE run_id = ?1", "DELETE FROM resolutions WHERE run_id = ?1",
            "DELETE FROM domains WHERE run_id = ?1"}) {
        auto st = db_->prepare(sql);
        if (!st) return st.error();
        st->bind(1, run_id);
        if (auto s = st->run(); !s) return s;
      }
      return Ok{};
    });
  }

  Expected<Run> get_run(std::int64_t run_id) override {
    auto runs = select_runs(run_id);
    if (!runs) return runs.error();
    if (runs->empty()) return no_run(run_id);
    return std::move(runs->front());
  }

  Expected<std::vector<Run>> list_runs() override { return select_runs(std::nullopt); }

  Status add_domains(std::int64_t run_id, const std::vector<Domain>& domains) override {
    if (auto s = check_run(run_id); !s) return s;
    return in_transaction(*db_, "add domains", [&]() -> Status {
      auto st = db_->prepare(
          "INSERT INTO domains (run_id, name, names) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (run_id, name) DO UPDATE SET names = excluded.names");
      if (!st) return st.error();
      for (const auto& d : domains) {
        st->bind(1, run_id).bind(2, d.name).bind(3, d.names);
        if (auto s = st->run(); !s) return s;
      }
      return Ok{};
    });
  }

  Status add_resolutions(std::int64_t run_id, const std::vector<Resolution>& rs) override {
    if (auto s = check_run(run_id); !s) return s;
    return in_transaction(*db_, "add resolutions", [&]() -> Status {
      auto st = db_->prepare(
          "INSERT OR REPLACE INTO resolutions (run_id, domain, status, mx_host, mx_preference, "
          "ip, fallback_ips, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
      if (!st) return st.error();
      for (const auto& r : rs) {
        st->bind(1, run_id)
            .bind(2, r.domain)
            .bind(3, r.status)
            .bind(4, r.mx_host)
            .bind(5, r.mx_preference)
            .bind(6, r.ip)
            .bind(7, to_json_list(r.fallback_ips))
            .bind(8, r.detail);
        if (auto s = st->run(); !s) return s;
      }
      return Ok{};
    });
  }

  Status add_hosts(std::int64_t run_id, std::vector<Host>& hosts) override {
    if (auto s = check_run(run_id); !s) return s;
    std::vector<std::int64_t> ids;
    ids.reserve(hosts.size());
    auto s = in_transaction(*db_, "add hosts", [&]() -> Status {
      auto host = db_->prepare(
          "INSERT INTO hosts (run_id, ip, mx_host, fallback_ips, sampled) "
          "VALUES (?1, ?2, ?3, ?4, ?5)");
      if (!host) return host.error();
      auto dom =
          db_->prepare("INSERT INTO host_domains (host_id, position, domain) VALUES (?1, ?2, ?3)");
      if (!dom) return dom.error();
      for (const auto& h : hosts) {
        host->bind(1, run_id)
            .bind(2, h.ip)
            .bind(3, h.mx_host)
            .bind(4, to_json_list(h.fallback_ips))
            .bind(5, h.sampled);
        if (auto r = host->run(); !r) return make_error(r.error().message + " for host " + h.ip);
        auto id = db_->last_insert_rowid();
        ids.push_back(id);
        for (std::size_t i = 0; i < h.domains.size(); ++i) {
          dom->bind(1, id).bind(2, static_cast<std::int64_t>(i)).bind(3, h.domains[i]);
          if (auto r = dom->run(); !r) return r;
        }
      }
      return Ok{};
    });
    // Ids only once committed: a rolled-back batch leaves the hosts untouched.
    if (s) {
      for (std::size_t i = 0; i < hosts.size(); ++i) hosts[i].id = ids[i];
    }
    return s;
  }

  Expected<std::vector<Host>> get_hosts(std::int64_t run_id, bool sampled_only) override {
    if (auto s = check_run(run_id); !s) return s.error();
    std::vector<Host> out;
    std::map<std::int64_t, std::size_t> index;
    {
      auto st = db_->prepare(
          "SELECT id, ip, mx_host, fallback_ips, sampled FROM hosts "
          "WHERE run_id = ?1 AND (?2 = 0 OR sampled <> 0) ORDER BY id");
      if (!st) return st.error();
      st->bind(1, run_id).bind(2, sampled_only);
      for (;;) {
        auto row = st->step();
        if (!row) return context(row.error(), "read hosts");
        if (!*row) break;
        Host h;
        h.id = st->i64(0);
        h.ip = st->text(1);
        h.mx_host = st->text(2);
        h.fallback_ips = from_json_list(st->text(3));
        h.sampled = st->i64(4) != 0;
        index[h.id] = out.size();
        out.push_back(std::move(h));
      }
    }
    auto st = db_->prepare(
        "SELECT d.host_id, d.domain FROM host_domains d JOIN hosts h ON h.id = d.host_id "
        "WHERE h.run_id = ?1 AND (?2 = 0 OR h.sampled <> 0) ORDER BY d.host_id, d.position");
    if (!st) return st.error();
    st->bind(1, run_id).bind(2, sampled_only);
    for (;;) {
      auto row = st->step();
      if (!row) return context(row.error(), "read host domains");
      if (!*row) break;
      if (auto it = index.find(st->i64(0)); it != index.end()) {
        out[it->second].domains.push_back(st->text(1));
      }
    }
    return out;
  }

  Expected<std::vector<Resolution>> get_resolutions(std::int64_t run_id) override {
    if (auto s = check_run(run_id); !s) return s.error();
    auto st = db_->prepare(
        "SELECT domain, status, mx_host, mx_preference, ip, fallback_ips, detail "
        "FROM resolutions WHERE run_id = ?1 ORDER BY domain");
    if (!st) return st.error();
    st->bind(1, run_id);
    std::vector<Resolution> out;
    for (;;) {
      auto row = st->step();
      if (!row) return context(row.error(), "read resolutions");
      if (!*row) break;
      Resolution r;
      r.domain = st->text(0);
      r.status = st->text(1);
      r.mx_host = st->text(2);
      r.mx_preference = st->i32(3);
      r.ip = st->text(4);
      r.fallback_ips = from_json_list(st->text(5));
      r.detail = st->text(6);
      out.push_back(std::move(r));
    }
    return out;
  }

  Status add_probes(std::int64_t run_id, const std::vector<Probe>& probes) override {
    if (probes.empty()) return Ok{};
    if (auto s = check_run(run_id); !s) return s;
    return in_transaction(*db_, "add probes", [&]() -> Status {
      auto probe = db_->prepare(
          "INSERT INTO probes (run_id, host_id, ip, domain, outcome, code, reason, token, "
          "started_at, duration_us, greeting_host, esmtp, starttls_offered, greylisted, "
          "first_code, "
          "first_reply) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
      if (!probe) return probe.error();
      auto line = db_->prepare(
          "INSERT INTO transcript_lines (probe_id, seq, t_us, direction, text) "
          "VALUES (?1, ?2, ?3, ?4, ?5)");
      if (!line) return line.error();
      auto variant = db_->prepare(
          "INSERT INTO variants (probe_id, seq, name, mail_from, rcpt_to, outcome, code, token) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
      if (!variant) return variant.error();
      for (const auto& p : probes) {
        probe->bind(1, run_id);
        if (p.host_id > 0) {
          probe->bind(2, p.host_id);
        } else {
          probe->bind_null(2);
        }
        probe->bind(3, p.ip)
            .bind(4, p.domain)
            .bind(5, p.outcome)
            .bind(6, p.code)
            .bind(7, p.reason)
            .bind(8, p.token)
            .bind(9, p.started_at)
            .bind(10, p.duration_us)
            .bind(11, p.greeting_host)
            .bind(12, p.esmtp)
            .bind(13, p.starttls_offered)
            .bind(14, p.greylisted)
            .bind(15, p.first_code)
            .bind(16, p.first_reply);
        if (auto r = probe->run(); !r) {
          if ((db_->errcode() & 0xff) == SQLITE_CONSTRAINT) {
            return make_error("host " + std::to_string(p.host_id) + " (" + p.ip +
                              ") already probed in run " + std::to_string(run_id) +
                              ", or no such host: " + r.error().message);
          }
          return r;
        }
        auto id = db_->last_insert_rowid();
        std::int64_t seq = 0;
        for (const auto& l : p.transcript) {
          line->bind(1, id)
              .bind(2, seq++)
              .bind(3, l.t_us)
              .bind(4, std::string_view(&l.direction, 1))
              .bind(5, l.text);
          if (auto r = line->run(); !r) return r;
        }
        seq = 0;
        for (const auto& v : p.variants) {
          variant->bind(1, id)
              .bind(2, seq++)
              .bind(3, v.name)
              .bind(4, v.mail_from)
              .bind(5, v.rcpt_to)
              .bind(6, v.outcome)
              .bind(7, v.code)
              .bind(8, v.token);
          if (auto r = variant->run(); !r) return r;
        }
      }
      return Ok{};
    });
  }

  Expected<std::vector<std::int64_t>> probed_host_ids(std::int64_t run_id) override {
    if (auto s = check_run(run_id); !s) return s.error();
    auto st = db_->prepare(
        "SELECT host_id FROM probes WHERE run_id = ?1 AND host_id IS NOT NULL ORDER BY host_id");
    if (!st) return st.error();
    st->bind(1, run_id);
    std::vector<std::int64_t> out;
    for (;;) {
      auto row = st->step();
      if (!row) return context(row.error(), "read probed hosts");
      if (!*row) break;
      out.push_back(st->i64(0));
    }
    return out;
  }

  Expected<std::vector<Probe>> get_probes(std::int64_t run_id, bool with_transcripts) override {
    if (auto s = check_run(run_id); !s) return s.error();
    std::vector<Probe> out;
    std::map<std::int64_t, std::size_t> index;
    {
      auto st = db_->prepare(
          "SELECT id, host_id, ip, domain, outcome, code, reason, token, started_at, "
          "duration_us, greeting_host, esmtp, starttls_offered, greylisted, first_code, "
          "first_reply "
          "FROM probes WHERE run_id = ?1 ORDER BY id");
      if (!st) return st.error();
      st->bind(1, run_id);
      for (;;) {
        auto row = st->step();
        if (!row) return context(row.error(), "read probes");
        if (!*row) break;
        Probe p;
        p.host_id = st->is_null(1) ? 0 : st->i64(1);
        p.ip = st->text(2);
        p.domain = st->text(3);
        p.outcome = st->text(4);
        p.code = st->i32(5);
        p.reason = st->text(6);
        p.token = st->text(7);
        p.started_at = st->text(8);
        p.duration_us = st->i64(9);
        p.greeting_host = st->text(10);
        p.esmtp = st->i64(11) != 0;
        p.starttls_offered = st->i64(12) != 0;
        p.greylisted = st->i64(13) != 0;
        p.first_code = st->i32(14);
        p.first_reply = st->text(15);
        index[st->i64(0)] = out.size();
        out.push_back(std::move(p));
      }
    }
    if (auto s = read_variants(run_id,
                               [&](std::int64_t probe_id, VariantResult v) {
                                 if (auto it = index.find(probe_id); it != index.end()) {
                                   out[it->second].variants.push_back(std::move(v));
                                 }
                               });
        !s) {
      return s.error();
    }
    if (with_transcripts) {
      auto st = db_->prepare(
          "SELECT t.probe_id, t.t_us, t.direction, t.text FROM transcript_lines t "
          "JOIN probes p ON p.id = t.probe_id WHERE p.run_id = ?1 ORDER BY t.probe_id, t.seq");
      if (!st) return st.error();
      st->bind(1, run_id);
      for (;;) {
        auto row = st->step();
        if (!row) return context(row.error(), "read transcripts");
        if (!*row) break;
        auto it = index.find(st->i64(0));
        if (it == index.end()) continue;
        TranscriptLine l;
        l.t_us = st->i64(1);
        auto d = st->text(2);
        l.direction = d.empty() ? '*' : d[0];
        l.text = st->text(3);
        out[it->second].transcript.push_back(std::move(l));
      }
    }
    return out;
  }

  Status add_arrival(const Arrival& a) override {
    auto st = db_->prepare(
        "INSERT INTO arrivals (token, kind, received_at, client_ip, mail_from, rcpt_to, "
        "message_path) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st) return st.error();
    st->bind(1, a.token)
        .bind(2, a.kind)
        .bind(3, a.received_at)
        .bind(4, a.client_ip)
        .bind(5, a.mail_from)
        .bind(6, a.rcpt_to)
        .bind(7, a.message_path);
    if (auto s = st->run(); !s) return context(s.error(), "add arrival");
    return Ok{};
  }

  Expected<bool> token_known(const std::string& token) override {
    if (token.empty()) return false;
    auto st = db_->prepare(
        // "token <> ''" lets SQLite use the partial indexes on token.
        "SELECT 1 FROM probes WHERE token = ?1 AND token <> '' UNION ALL "
        "SELECT 1 FROM variants WHERE token = ?1 AND token <> '' LIMIT 1");
    if (!st) return st.error();
    st->bind(1, token);
    auto row = st->step();
    if (!row) return context(row.error(), "look up a token");
    return *row;
  }

  Expected<std::optional<TokenOwner>> token_owner(const std::string& token) override {
    if (token.empty()) return std::optional<TokenOwner>{};
    auto st = db_->prepare(
        "SELECT run_id, id FROM probes WHERE token = ?1 AND token <> '' UNION ALL "
        "SELECT p.run_id, p.id FROM variants v JOIN probes p ON p.id = v.probe_id "
        "  WHERE v.token = ?1 AND v.token <> '' LIMIT 1");
    if (!st) return st.error();
    st->bind(1, token);
    auto row = st->step();
    if (!row) return context(row.error(), "look up a token");
    if (!*row) return std::optional<TokenOwner>{};
    return std::optional<TokenOwner>{TokenOwner{st->i64(0), st->i64(1)}};
  }

  Expected<std::vector<Arrival>> get_arrivals() override {
    auto st = db_->prepare(
        "SELECT token, kind, received_at, client_ip, mail_from, rcpt_to, message_path "
        "FROM arrivals ORDER BY id");
    if (!st) return st.error();
    std::vector<Arrival> out;
    for (;;) {
      auto row = st->step();
      if (!row) return context(row.error(), "read arrivals");
      if (!*row) break;
      Arrival a;
      a.token = st->text(0);
      a.kind = st->text(1);
      a.received_at = st->text(2);
      a.client_ip = st->text(3);
      a.mail_from = st->text(4);
      a.rcpt_to = st->text(5);
      a.message_path = st->text(6);
      out.push_back(std::move(a));
    }
    return out;
  }

  Expected<std::vector<HostRow>> host_rows(std::int64_t run_id) override {
    if (auto s = check_run(run_id); !s) return s.error();
    // What the collector saw, by token: the few arrivals fit in memory.
    std::set<std::string> delivered, bounced;
    {
      auto st = db_->prepare(
          "SELECT token, kind FROM arrivals WHERE token <> '' AND kind IN ('delivery', 'bounce')");
      if (!st) return st.error();
      for (;;) {
        auto row = st->step();
        if (!row) return context(row.error(), "read arrivals");
        if (!*row) break;
        (st->text(1) == "delivery" ? delivered : bounced).insert(st->text(0));
      }
    }
    std::vector<HostRow> out;
    std::map<std::int64_t, std::size_t> index;
    {
      // The reply line behind the code: the last received line that begins
      // with it (a multi-line reply's last line carries its text too).
      auto st = db_->prepare(
          "SELECT p.id, p.domain, p.ip, p.outcome, p.code, p.reason, p.token, "
          "CASE WHEN p.code > 0 THEN (SELECT t.text FROM transcript_lines t "
          "  WHERE t.probe_id = p.id AND t.direction = '<' "
          "  AND substr(t.text, 1, 3) = CAST(p.code AS TEXT) ORDER BY t.seq DESC LIMIT 1) "
          "ELSE NULL END, p.greylisted, p.first_code, p.first_reply "
          "FROM probes p WHERE p.run_id = ?1 ORDER BY p.id");
      if (!st) return st.error();
      st->bind(1, run_id);
      for (;;) {
        auto row = st->step();
        if (!row) return context(row.error(), "read host rows");
        if (!*row) break;
        HostRow h;
        h.run_id = run_id;
        h.domain = st->text(1);
        h.ip = st->text(2);
        h.outcome = st->text(3);
        h.code = st->i32(4);
        h.reason = st->text(5);
        h.token = st->text(6);
        h.reply = st->text(7);
        h.greylisted = st->i64(8) != 0;
        h.first_code = st->i32(9);
        h.first_reply = st->text(10);
        if (!h.token.empty()) {
          h.delivered = delivered.count(h.token) > 0;
          h.bounced = bounced.count(h.token) > 0;
        }
        index[st->i64(0)] = out.size();
        out.push_back(std::move(h));
      }
    }
    auto s = read_variants(run_id, [&](std::int64_t probe_id, const VariantResult& v) {
      auto it = index.find(probe_id);
      if (it == index.end()) return;
      auto& h = out[it->second];
      if (v.outcome == "OK") h.relaying_variants.push_back(v.name);
      if (v.outcome == variant_not_tried) h.untried_variants.push_back(v.name);
      if (!v.token.empty()) {
        h.delivered = h.delivered || delivered.count(v.token) > 0;
        h.bounced = h.bounced || bounced.count(v.token) > 0;
      }
    });
    if (!s) return s.error();
    return out;
  }

  std::string backend() const override { return "sqlite"; }

  // On SQLite `--join` is `--resume`: one machine, one writer at a time
  // (BEGIN IMMEDIATE), so leases only keep the same contract as PostgreSQL's.
  Expected<std::vector<Host>> claim_hosts(std::int64_t run_id, const std::string& owner,
                                          std::size_t n, std::int64_t lease_ms) override {
    if (auto s = check_run(run_id); !s) return s.error();
    std::vector<std::int64_t> ids;
    auto s = in_transaction(*db_, "claim hosts", [&]() -> Status {
      auto st = db_->prepare(
          std::string("UPDATE hosts SET lease_owner = ?2, lease_until = ") + kNowMs +
          " + ?4 WHERE id IN (SELECT h.id FROM hosts h WHERE h.run_id = ?1 "
          "AND h.sampled <> 0 AND h.lease_until < " +
          kNowMs +
          " AND NOT EXISTS (SELECT 1 FROM probes x WHERE x.run_id = h.run_id "
          "AND x.host_id = h.id) AND NOT EXISTS (SELECT 1 FROM address_leases a WHERE "
          "a.run_id = h.run_id AND a.ip = h.ip AND a.owner <> ?2 AND a.lease_until > " +
          kNowMs + ") ORDER BY h.id LIMIT ?3) RETURNING id");
      if (!st) return st.error();
      st->bind(1, run_id).bind(2, owner).bind(3, static_cast<std::int64_t>(n)).bind(4, lease_ms);
      for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        ids.push_back(st->i64(0));
      }
      return Ok{};
    });
    if (!s) return s.error();
    if (ids.empty()) return std::vector<Host>{};
    std::set<std::int64_t> wanted(ids.begin(), ids.end());
    auto all = get_hosts(run_id, true);
    if (!all) return all.error();
    std::erase_if(*all, [&](const Host& h) { return !wanted.count(h.id); });
    return all;
  }

  Status renew_leases(std::int64_t run_id, const std::string& owner,
                      std::int64_t lease_ms) override {
    for (const std::string& sql :
         {std::string("UPDATE hosts SET lease_until = ") + kNowMs +
              " + ?3 WHERE run_id = ?1 AND lease_owner = ?2 AND NOT EXISTS (SELECT 1 FROM "
              "probes x WHERE x.run_id = hosts.run_id AND x.host_id = hosts.id)",
          std::string("UPDATE address_leases SET lease_until = ") + kNowMs +
              " + ?3 WHERE run_id = ?1 AND owner = ?2"}) {
      auto st = db_->prepare(sql);
      if (!st) return st.error();
      st->bind(1, run_id).bind(2, owner).bind(3, lease_ms);
      if (auto r = st->run(); !r) return context(r.error(), "renew leases");
    }
    return Ok{};
  }

  Expected<std::vector<std::int64_t>> add_leased_probes(std::int64_t run_id,
                                                        const std::string& owner,
                                                        const std::vector<Probe>& probes) override {
    std::vector<std::int64_t> discarded;
    std::vector<Probe> kept;
    {
      // Which of them are still ours and unprobed: read under the write lock
      // that add_probes takes next (one writer at a time on SQLite).
      auto st = db_->prepare(
          "SELECT 1 FROM hosts h WHERE h.id = ?1 AND h.run_id = ?2 AND h.lease_owner = ?3 AND "
          "NOT EXISTS (SELECT 1 FROM probes x WHERE x.run_id = h.run_id AND x.host_id = h.id)");
      if (!st) return st.error();
      for (const auto& p : probes) {
        if (p.host_id <= 0) {
          kept.push_back(p);
          continue;
        }
        st->bind(1, p.host_id).bind(2, run_id).bind(3, owner);
        auto row = st->step();
        if (!row) return row.error();
        bool ours = *row;
        if (auto r = st->run(); !r) return r.error();  // reset for the next
        if (ours) {
          kept.push_back(p);
        } else {
          discarded.push_back(p.host_id);
        }
      }
    }
    if (auto s = add_probes(run_id, kept); !s) return s.error();
    return discarded;
  }

  Expected<bool> claim_address(std::int64_t run_id, const std::string& ip, const std::string& owner,
                               std::int64_t lease_ms) override {
    {
      // Not an address another worker probes as its host right now.
      auto busy = db_->prepare(std::string("SELECT 1 FROM hosts h WHERE h.run_id = ?1 AND h.ip = "
                                           "?2 AND h.lease_owner <> ?3 AND h.lease_until > ") +
                               kNowMs +
                               " AND NOT EXISTS (SELECT 1 FROM probes x WHERE x.run_id = "
                               "h.run_id AND x.host_id = h.id)");
      if (!busy) return busy.error();
      busy->bind(1, run_id).bind(2, ip).bind(3, owner);
      auto row = busy->step();
      if (!row) return context(row.error(), "claim an address");
      if (*row) return false;
    }
    auto st = db_->prepare(
        std::string("INSERT INTO address_leases (run_id, ip, owner, lease_until) VALUES (?1, ?2, "
                    "?3, ") +
        kNowMs +
        " + ?4) ON CONFLICT (run_id, ip) DO UPDATE SET owner = excluded.owner, lease_until = "
        "excluded.lease_until WHERE address_leases.lease_until < " +
        kNowMs + " OR address_leases.owner = excluded.owner");
    if (!st) return st.error();
    st->bind(1, run_id).bind(2, ip).bind(3, owner).bind(4, lease_ms);
    if (auto r = st->run(); !r) return context(r.error(), "claim an address");
    return db_->changes() > 0;
  }

  Status release_address(std::int64_t run_id, const std::string& ip,
                         const std::string& owner) override {
    auto st = db_->prepare(
        "UPDATE address_leases SET lease_until = 0 WHERE run_id = ?1 AND ip = ?2 AND owner = ?3");
    if (!st) return st.error();
    st->bind(1, run_id).bind(2, ip).bind(3, owner);
    if (auto r = st->run(); !r) return context(r.error(), "release an address");
    return Ok{};
  }

  Expected<std::int64_t> unprobed_count(std::int64_t run_id) override {
    if (auto s = check_run(run_id); !s) return s.error();
    auto st = db_->prepare(
        "SELECT count(*) FROM hosts h WHERE h.run_id = ?1 AND h.sampled <> 0 AND NOT EXISTS "
        "(SELECT 1 FROM probes x WHERE x.run_id = h.run_id AND x.host_id = h.id)");
    if (!st) return st.error();
    st->bind(1, run_id);
    auto row = st->step();
    if (!row) return context(row.error(), "count unprobed hosts");
    auto n = st->i64(0);
    if (auto r = st->run(); !r) return r.error();
    return n;
  }

 private:
  Error no_run(std::int64_t run_id) const {
    return make_error("no run with id " + std::to_string(run_id));
  }

  Status check_run(std::int64_t run_id) {
    auto st = db_->prepare("SELECT 1 FROM runs WHERE id = ?1");
    if (!st) return st.error();
    st->bind(1, run_id);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return no_run(run_id);
    return Ok{};
  }

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

  Expected<std::vector<Run>> select_runs(std::optional<std::int64_t> only) {
    auto st = db_->prepare(
        "SELECT id, label, started_at, finished_at, status, params_json, names, "
        "lines_without_address, unique_domains, resolved_hosts, sampled, prepared, excluded "
        "FROM runs "
        "WHERE ?1 IS NULL OR id = ?1 ORDER BY id");
    if (!st) return st.error();
    if (only) {
      st->bind(1, *only);
    } else {
      st->bind_null(1);
    }
    std::vector<Run> out;
    for (;;) {
      auto row = st->step();
      if (!row) return context(row.error(), "read runs");
      if (!*row) break;
      Run r;
      r.id = st->i64(0);
      r.label = st->text(1);
      r.started_at = st->text(2);
      r.finished_at = st->text(3);
      r.status = st->text(4);
      r.params_json = st->text(5);
      r.funnel.names = st->i64(6);
      r.funnel.lines_without_address = st->i64(7);
      r.funnel.unique_domains = st->i64(8);
      r.funnel.resolved_hosts = st->i64(9);
      r.funnel.sampled = st->i64(10);
      r.prepared = st->i64(11) != 0;
      r.funnel.excluded = st->i64(12);
      out.push_back(std::move(r));
    }
    return out;
  }

  std::unique_ptr<Db> db_;
};

bool is_memory(const std::string& path) {
  return path == ":memory:" || path.rfind("file::memory:", 0) == 0;
}

}  // namespace

Expected<std::unique_ptr<Store>> open_sqlite(const std::string& path, OpenMode mode) {
  bool create = mode == OpenMode::create;
  if (!create && !is_memory(path)) {
    struct stat sb {};
    if (::stat(path.c_str(), &sb) != 0) return make_error("no database at '" + path + "'");
    if (!S_ISREG(sb.st_mode)) return make_error("'" + path + "' is not a relayscope database");
  }
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_URI;
  auto db = Db::open(path, flags);
  if (!db) return db.error();
  if (auto s = prepare_schema(**db, create); !s) {
    return make_error("'" + path + "': " + s.error().message);
  }
  return synchronized(std::unique_ptr<Store>(new SqliteStore(std::move(*db))));
}

Expected<std::unique_ptr<Store>> open_sqlite(const std::string& path) {
  return open_sqlite(path, OpenMode::create);
}

}  // namespace relayscope::store
