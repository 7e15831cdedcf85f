// The Store on PostgreSQL (pg_schema.cpp): the same tables as SQLite's. A
// batch is one transaction; rows of a batch that need no id back (domains,
// resolutions, hosts' domains, transcript lines, variants) go in as arrays
// through unnest(), one statement per table, so a batch costs a few round
// trips, not one per row. Reads that span tables (host_rows, get_probes)
// run in one REPEATABLE READ snapshot, so a report read while workers write
// is consistent.
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "store/pg_conn.hpp"
#include "store/pg_schema.hpp"
#include "store/store.hpp"
#include "store/synchronized.hpp"

namespace relayscope::store {

namespace {

using pg::Conn;
using pg::p;
using pg::Param;
using pg::Result;

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
constexpr const char* kNowMs = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

class PgStore final : public Store {
 public:
  explicit PgStore(std::unique_ptr<Conn> c) : c_(std::move(c)) {}

  std::string backend() const override { return "postgresql"; }
  bool connection_lost() const override { return c_->lost(); }
  Status reconnect() override { return c_->reset(); }

  Expected<std::int64_t> create_run(const Run& run) override {
    auto r =
        q("INSERT INTO runs (label, started_at, finished_at, status, params_json, names, "
          "lines_without_address, unique_domains, resolved_hosts, sampled, prepared, excluded) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
          {p(run.label), p(run.started_at), p(run.finished_at),
           p(run.status.empty() ? std::string("running") : run.status),
           p(run.params_json.empty() ? std::string("{}") : run.params_json), p(run.funnel.names),
           p(run.funnel.lines_without_address), p(run.funnel.unique_domains),
           p(run.funnel.resolved_hosts), p(run.funnel.sampled), p(run.prepared),
           p(run.funnel.excluded)});
    if (!r) return context(r.error(), "create run");
    return r->i64(0, 0);
  }

  Status finish_run(std::int64_t run_id, const std::string& status,
                    const std::string& finished_at) override {
    auto r = q("UPDATE runs SET status = $2, finished_at = $3 WHERE id = $1",
               {p(run_id), p(status), p(finished_at)});
    if (!r) return context(r.error(), "finish run");
    if (r->affected() == 0) return no_run(run_id);
    return Ok{};
  }

  Status mark_prepared(std::int64_t run_id, const Funnel& f) override {
    auto r =
        q("UPDATE runs SET names = $2, lines_without_address = $3, unique_domains = $4, "
          "resolved_hosts = $5, sampled = $6, excluded = $7, prepared = 1 WHERE id = $1",
          {p(run_id), p(f.names), p(f.lines_without_address), p(f.unique_domains),
           p(f.resolved_hosts), p(f.sampled), p(f.excluded)});
    if (!r) return context(r.error(), "mark run prepared");
    if (r->affected() == 0) return no_run(run_id);
    return Ok{};
  }

  Status discard_preparation(std::int64_t run_id) override {
    auto run = get_run(run_id);
    if (!run) return run.error();
    if (run->prepared) {
      return make_error("run " + std::to_string(run_id) + " is prepared: its hosts are kept");
    }
    return in_transaction("discard preparation", [&]() -> Status {
      for (const char* sql :
           {"DELETE FROM hosts WHERE run_id = $1", "DELETE FROM resolutions WHERE run_id = $1",
            "DELETE FROM domains WHERE run_id = $1"}) {
        if (auto r = q(sql, {p(run_id)}); !r) return r.error();
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
    // One name once per statement (ON CONFLICT may not touch a row twice): the last count wins.
    std::map<std::string, std::int64_t> last;
    for (const auto& d : domains) last[d.name] = d.names;
    return in_transaction("add domains", [&]() -> Status {
      Column names, counts;
      for (const auto& [n, c] : last) {
        names.add(n);
        counts.add(c);
      }
      auto r =
          q("INSERT INTO domains (run_id, name, names) "
            "SELECT $1::bigint, n, c FROM unnest($2::text[], $3::bigint[]) AS u(n, c) "
            "ON CONFLICT (run_id, name) DO UPDATE SET names = excluded.names",
            {p(run_id), names.param(), counts.param()});
      if (!r) return r.error();
      return Ok{};
    });
  }

  Status add_resolutions(std::int64_t run_id, const std::vector<Resolution>& rs) override {
    if (auto s = check_run(run_id); !s) return s;
    std::map<std::string, const Resolution*> last;
    for (const auto& r : rs) last[r.domain] = &r;
    return in_transaction("add resolutions", [&]() -> Status {
      Column domain, status, mx, pref, ip, fallback, detail;
      for (const auto& [d, r] : last) {
        domain.add(r->domain);
        status.add(r->status);
        mx.add(r->mx_host);
        pref.add(static_cast<std::int64_t>(r->mx_preference));
        ip.add(r->ip);
        fallback.add(to_json_list(r->fallback_ips));
        detail.add(r->detail);
      }
      auto r =
          q("INSERT INTO resolutions (run_id, domain, status, mx_host, mx_preference, ip, "
            "fallback_ips, detail) SELECT $1::bigint, * FROM unnest($2::text[], $3::text[], "
            "$4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[]) "
            "ON CONFLICT (run_id, domain) DO UPDATE SET status = excluded.status, "
            "mx_host = excluded.mx_host, mx_preference = excluded.mx_preference, "
            "ip = excluded.ip, fallback_ips = excluded.fallback_ips, detail = excluded.detail",
            {p(run_id), domain.param(), status.param(), mx.param(), pref.param(), ip.param(),
             fallback.param(), detail.param()});
      if (!r) return r.error();
      return Ok{};
    });
  }

  Status add_hosts(std::int64_t run_id, std::vector<Host>& hosts) override {
    if (auto s = check_run(run_id); !s) return s;
    std::vector<std::int64_t> ids(hosts.size(), 0);
    auto s = in_transaction("add hosts", [&]() -> Status {
      Column ip, mx, fallback, sampled;
      for (const auto& h : hosts) {
        ip.add(h.ip);
        mx.add(h.mx_host);
        fallback.add(to_json_list(h.fallback_ips));
        sampled.add(static_cast<std::int64_t>(h.sampled ? 1 : 0));
      }
      auto r =
          q("INSERT INTO hosts (run_id, ip, mx_host, fallback_ips, sampled) "
            "SELECT $1::bigint, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) "
            "RETURNING id, ip",
            {p(run_id), ip.param(), mx.param(), fallback.param(), sampled.param()});
      if (!r) return r.error();
      // An address is unique within a run: ids are matched by it.
      std::map<std::string, std::int64_t> by_ip;
      for (int i = 0; i < r->rows(); ++i) by_ip[r->text(i, 1)] = r->i64(i, 0);
      Column host, pos, dom;
      for (std::size_t i = 0; i < hosts.size(); ++i) {
        ids[i] = by_ip[hosts[i].ip];
        for (std::size_t k = 0; k < hosts[i].domains.size(); ++k) {
          host.add(ids[i]);
          pos.add(static_cast<std::int64_t>(k));
          dom.add(hosts[i].domains[k]);
        }
      }
      auto d =
          q("INSERT INTO host_domains (host_id, position, domain) "
            "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])",
            {host.param(), pos.param(), dom.param()});
      if (!d) return d.error();
      return Ok{};
    });
    if (s) {
      for (std::size_t i = 0; i < hosts.size(); ++i) hosts[i].id = ids[i];
    }
    return s;
  }

  Expected<std::vector<Host>> get_hosts(std::int64_t run_id, bool sampled_only) override {
    if (auto s = check_run(run_id); !s) return s.error();
    return load_hosts("h.run_id = $1 AND ($2 = 0 OR h.sampled <> 0)", {p(run_id), p(sampled_only)});
  }

  Expected<std::vector<Resolution>> get_resolutions(std::int64_t run_id) override {
    if (auto s = check_run(run_id); !s) return s.error();
    auto r =
        q("SELECT domain, status, mx_host, mx_preference, ip, fallback_ips, detail "
          "FROM resolutions WHERE run_id = $1 ORDER BY domain COLLATE \"C\"",
          {p(run_id)});
    if (!r) return context(r.error(), "read resolutions");
    std::vector<Resolution> out;
    for (int i = 0; i < r->rows(); ++i) {
      Resolution x;
      x.domain = r->text(i, 0);
      x.status = r->text(i, 1);
      x.mx_host = r->text(i, 2);
      x.mx_preference = static_cast<int>(r->i64(i, 3));
      x.ip = r->text(i, 4);
      x.fallback_ips = from_json_list(r->text(i, 5));
      x.detail = r->text(i, 6);
      out.push_back(std::move(x));
    }
    return out;
  }

  Status add_probes(std::int64_t run_id, const std::vector<Probe>& probes) override {
    if (probes.empty()) return Ok{};
    if (auto s = check_run(run_id); !s) return s;
    return in_transaction(
        "add probes", [&]() -> Status { return insert_probes(run_id, probes, nullptr, nullptr); });
  }

  Expected<std::vector<std::int64_t>> probed_host_ids(std::int64_t run_id) override {
    if (auto s = check_run(run_id); !s) return s.error();
    auto r =
        q("SELECT host_id FROM probes WHERE run_id = $1 AND host_id IS NOT NULL "
          "ORDER BY host_id",
          {p(run_id)});
    if (!r) return context(r.error(), "read probed hosts");
    std::vector<std::int64_t> out;
    for (int i = 0; i < r->rows(); ++i) out.push_back(r->i64(i, 0));
    return out;
  }

  Expected<std::vector<Probe>> get_probes(std::int64_t run_id, bool with_transcripts) override {
    if (auto s = check_run(run_id); !s) return s.error();
    std::vector<Probe> out;
    auto s = in_snapshot([&]() -> Status {
      out.clear();
      std::map<std::int64_t, std::size_t> index;
      auto r =
          q("SELECT id, host_id, ip, domain, outcome, code, reason, token, started_at, "
            "duration_us, greeting_host, esmtp, starttls_offered, greylisted, first_code, "
            "first_reply FROM probes WHERE run_id = $1 ORDER BY id",
            {p(run_id)});
      if (!r) return context(r.error(), "read probes");
      for (int i = 0; i < r->rows(); ++i) {
        Probe x;
        x.host_id = r->is_null(i, 1) ? 0 : r->i64(i, 1);
        x.ip = r->text(i, 2);
        x.domain = r->text(i, 3);
        x.outcome = r->text(i, 4);
        x.code = static_cast<int>(r->i64(i, 5));
        x.reason = r->text(i, 6);
        x.token = r->text(i, 7);
        x.started_at = r->text(i, 8);
        x.duration_us = r->i64(i, 9);
        x.greeting_host = r->text(i, 10);
        x.esmtp = r->i64(i, 11) != 0;
        x.starttls_offered = r->i64(i, 12) != 0;
        x.greylisted = r->i64(i, 13) != 0;
        x.first_code = static_cast<int>(r->i64(i, 14));
        x.first_reply = r->text(i, 15);
        index[r->i64(i, 0)] = out.size();
        out.push_back(std::move(x));
      }
      auto v = read_variants(run_id, [&](std::int64_t probe_id, VariantResult vr) {
        if (auto it = index.find(probe_id); it != index.end()) {
          out[it->second].variants.push_back(std::move(vr));
        }
      });
      if (!v) return v;
      if (!with_transcripts) return Ok{};
      auto t =
          q("SELECT t.probe_id, t.t_us, t.direction, t.text FROM transcript_lines t "
            "JOIN probes p ON p.id = t.probe_id WHERE p.run_id = $1 "
            "ORDER BY t.probe_id, t.seq",
            {p(run_id)});
      if (!t) return context(t.error(), "read transcripts");
      for (int i = 0; i < t->rows(); ++i) {
        auto it = index.find(t->i64(i, 0));
        if (it == index.end()) continue;
        TranscriptLine l;
        l.t_us = t->i64(i, 1);
        auto d = t->text(i, 2);
        l.direction = d.empty() ? '*' : d[0];
        l.text = t->text(i, 3);
        out[it->second].transcript.push_back(std::move(l));
      }
      return Ok{};
    });
    if (!s) return s.error();
    return out;
  }

  Status add_arrival(const Arrival& a) override {
    auto r =
        q("INSERT INTO arrivals (token, kind, received_at, client_ip, mail_from, rcpt_to, "
          "message_path) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {p(a.token), p(a.kind), p(a.received_at), p(a.client_ip), p(a.mail_from), p(a.rcpt_to),
           p(a.message_path)});
    if (!r) return context(r.error(), "add arrival");
    return Ok{};
  }

  Expected<bool> token_known(const std::string& token) override {
    if (token.empty()) return false;
    auto r =
        q("SELECT 1 FROM probes WHERE token = $1 AND token <> '' UNION ALL "
          "SELECT 1 FROM variants WHERE token = $1 AND token <> '' LIMIT 1",
          {p(token)});
    if (!r) return context(r.error(), "look up a token");
    return r->rows() > 0;
  }

  Expected<std::optional<TokenOwner>> token_owner(const std::string& token) override {
    if (token.empty()) return std::optional<TokenOwner>{};
    auto r =
        q("SELECT run_id, id FROM probes WHERE token = $1 AND token <> '' UNION ALL "
          "SELECT p.run_id, p.id FROM variants v JOIN probes p ON p.id = v.probe_id "
          "  WHERE v.token = $1 AND v.token <> '' LIMIT 1",
          {p(token)});
    if (!r) return context(r.error(), "look up a token");
    if (r->rows() == 0) return std::optional<TokenOwner>{};
    return std::optional<TokenOwner>{TokenOwner{r->i64(0, 0), r->i64(0, 1)}};
  }

  Expected<std::vector<Arrival>> get_arrivals() override {
    auto r =
        q("SELECT token, kind, received_at, client_ip, mail_from, rcpt_to, message_path "
          "FROM arrivals ORDER BY id");
    if (!r) return context(r.error(), "read arrivals");
    std::vector<Arrival> out;
    for (int i = 0; i < r->rows(); ++i) {
      Arrival a;
      a.token = r->text(i, 0);
      a.kind = r->text(i, 1);
      a.received_at = r->text(i, 2);
      a.client_ip = r->text(i, 3);
      a.mail_from = r->text(i, 4);
      a.rcpt_to = r->text(i, 5);
      a.message_path = r->text(i, 6);
      out.push_back(std::move(a));
    }
    return out;
  }

  Expected<std::vector<HostRow>> host_rows(std::int64_t run_id) override {
    if (auto s = check_run(run_id); !s) return s.error();
    std::vector<HostRow> out;
    auto s = in_snapshot([&]() -> Status {
      out.clear();
      std::set<std::string> delivered, bounced;
      auto a =
          q("SELECT token, kind FROM arrivals WHERE token <> '' "
            "AND kind IN ('delivery', 'bounce')");
      if (!a) return context(a.error(), "read arrivals");
      for (int i = 0; i < a->rows(); ++i) {
        (a->text(i, 1) == "delivery" ? delivered : bounced).insert(a->text(i, 0));
      }
      std::map<std::int64_t, std::size_t> index;
      auto r =
          q("SELECT p.id, p.domain, p.ip, p.outcome, p.code, p.reason, p.token, "
            "CASE WHEN p.code > 0 THEN (SELECT t.text FROM transcript_lines t "
            "  WHERE t.probe_id = p.id AND t.direction = '<' "
            "  AND substr(t.text, 1, 3) = CAST(p.code AS TEXT) ORDER BY t.seq DESC LIMIT 1) "
            "ELSE NULL END, p.greylisted, p.first_code, p.first_reply "
            "FROM probes p WHERE p.run_id = $1 ORDER BY p.id",
            {p(run_id)});
      if (!r) return context(r.error(), "read host rows");
      for (int i = 0; i < r->rows(); ++i) {
        HostRow h;
        h.run_id = run_id;
        h.domain = r->text(i, 1);
        h.ip = r->text(i, 2);
        h.outcome = r->text(i, 3);
        h.code = static_cast<int>(r->i64(i, 4));
        h.reason = r->text(i, 5);
        h.token = r->text(i, 6);
        h.reply = r->text(i, 7);
        h.greylisted = r->i64(i, 8) != 0;
        h.first_code = static_cast<int>(r->i64(i, 9));
        h.first_reply = r->text(i, 10);
        if (!h.token.empty()) {
          h.delivered = delivered.count(h.token) > 0;
          h.bounced = bounced.count(h.token) > 0;
        }
        index[r->i64(i, 0)] = out.size();
        out.push_back(std::move(h));
      }
      return read_variants(run_id, [&](std::int64_t probe_id, const VariantResult& v) {
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
    });
    if (!s) return s.error();
    return out;
  }

  Expected<std::vector<Host>> claim_hosts(std::int64_t run_id, const std::string& owner,
                                          std::size_t n, std::int64_t lease_ms) override {
    if (auto s = check_run(run_id); !s) return s.error();
    std::vector<Host> out;
    auto s = in_transaction("claim hosts", [&]() -> Status {
      // SKIP LOCKED: rows another worker is claiming right now are passed
      // over, not waited for; a lease that ran out is free again.
      auto r = q(std::string("UPDATE hosts SET lease_owner = $2, lease_until = ") + kNowMs +
                     " + $4 WHERE id IN (SELECT h.id FROM hosts h WHERE h.run_id = $1 "
                     "AND h.sampled <> 0 AND h.lease_until < " +
                     kNowMs +
                     " AND NOT EXISTS (SELECT 1 FROM probes x WHERE x.run_id = h.run_id "
                     "AND x.host_id = h.id) AND NOT EXISTS (SELECT 1 FROM address_leases a WHERE "
                     "a.run_id = h.run_id AND a.ip = h.ip AND a.owner <> $2 AND a.lease_until > " +
                     kNowMs +
                     ") ORDER BY h.id LIMIT $3 FOR UPDATE SKIP LOCKED) "
                     "RETURNING id",
                 {p(run_id), p(owner), p(static_cast<std::int64_t>(n)), p(lease_ms)});
      if (!r) return r.error();
      Column ids;
      for (int i = 0; i < r->rows(); ++i) ids.add(r->i64(i, 0));
      if (ids.size() == 0) return Ok{};
      auto hosts = load_hosts("h.id = ANY($1::bigint[])", {ids.param()});
      if (!hosts) return hosts.error();
      out = std::move(*hosts);
      return Ok{};
    });
    if (!s) return s.error();
    return out;
  }

  Status renew_leases(std::int64_t run_id, const std::string& owner,
                      std::int64_t lease_ms) override {
    auto r = q(std::string("UPDATE hosts h SET lease_until = ") + kNowMs +
                   " + $3 WHERE h.run_id = $1 AND h.lease_owner = $2 AND NOT EXISTS "
                   "(SELECT 1 FROM probes x WHERE x.run_id = h.run_id AND x.host_id = h.id)",
               {p(run_id), p(owner), p(lease_ms)});
    if (!r) return context(r.error(), "renew leases");
    auto a = q(std::string("UPDATE address_leases SET lease_until = ") + kNowMs +
                   " + $3 WHERE run_id = $1 AND owner = $2",
               {p(run_id), p(owner), p(lease_ms)});
    if (!a) return context(a.error(), "renew leases");
    return Ok{};
  }

  Expected<std::vector<std::int64_t>> add_leased_probes(std::int64_t run_id,
                                                        const std::string& owner,
                                                        const std::vector<Probe>& probes) override {
    std::vector<std::int64_t> discarded;
    if (probes.empty()) return discarded;
    if (auto s = check_run(run_id); !s) return s.error();
    auto s = in_transaction("add probes", [&]() -> Status {
      discarded.clear();
      return insert_probes(run_id, probes, &owner, &discarded);
    });
    if (!s) return s.error();
    return discarded;
  }

  Expected<bool> claim_address(std::int64_t run_id, const std::string& ip, const std::string& owner,
                               std::int64_t lease_ms) override {
    // Not an address another worker probes as its host right now.
    auto busy = q(std::string("SELECT 1 FROM hosts h WHERE h.run_id = $1 AND h.ip = $2 AND "
                              "h.lease_owner <> $3 AND h.lease_until > ") +
                      kNowMs +
                      " AND NOT EXISTS (SELECT 1 FROM probes x WHERE x.run_id = h.run_id AND "
                      "x.host_id = h.id)",
                  {p(run_id), p(ip), p(owner)});
    if (!busy) return context(busy.error(), "claim an address");
    if (busy->rows() > 0) return false;
    auto r = q(std::string("INSERT INTO address_leases (run_id, ip, owner, lease_until) "
                           "VALUES ($1, $2, $3, ") +
                   kNowMs +
                   " + $4) ON CONFLICT (run_id, ip) DO UPDATE SET owner = excluded.owner, "
                   "lease_until = excluded.lease_until WHERE address_leases.lease_until < " +
                   kNowMs + " OR address_leases.owner = excluded.owner RETURNING 1",
               {p(run_id), p(ip), p(owner), p(lease_ms)});
    if (!r) return context(r.error(), "claim an address");
    return r->rows() > 0;
  }

  Status release_address(std::int64_t run_id, const std::string& ip,
                         const std::string& owner) override {
    auto r =
        q("UPDATE address_leases SET lease_until = 0 WHERE run_id = $1 AND ip = $2 "
          "AND owner = $3",
          {p(run_id), p(ip), p(owner)});
    if (!r) return context(r.error(), "release an address");
    return Ok{};
  }

  Expected<std::int64_t> unprobed_count(std::int64_t run_id) override {
    if (auto s = check_run(run_id); !s) return s.error();
    auto r =
        q("SELECT count(*) FROM hosts h WHERE h.run_id = $1 AND h.sampled <> 0 AND NOT "
          "EXISTS (SELECT 1 FROM probes x WHERE x.run_id = h.run_id AND x.host_id = h.id)",
          {p(run_id)});
    if (!r) return context(r.error(), "count unprobed hosts");
    return r->i64(0, 0);
  }

 private:
  Expected<Result> q(const std::string& sql, const std::vector<Param>& params = {}) {
    return c_->run(sql, params);
  }

  Error no_run(std::int64_t run_id) const {
    return make_error("no run with id " + std::to_string(run_id));
  }

  Status check_run(std::int64_t run_id) {
    auto r = q("SELECT 1 FROM runs WHERE id = $1", {p(run_id)});
    if (!r) return r.error();
    if (r->rows() == 0) return no_run(run_id);
    return Ok{};
  }

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
                       const std::string* owner, std::vector<std::int64_t>* discarded) {
    auto ids =
        q("SELECT nextval(pg_get_serial_sequence('probes', 'id')) "
          "FROM generate_series(1, $1::bigint)",
          {p(static_cast<std::int64_t>(probes.size()))});
    if (!ids) return ids.error();
    if (ids->rows() != static_cast<int>(probes.size())) return make_error("probe ids not drawn");
    Column id, host, ip, domain, outcome, code, reason, token, started, duration, greeting, esmtp,
        tls, grey, first_code, first_reply;
    for (std::size_t i = 0; i < probes.size(); ++i) {
      const auto& x = probes[i];
      id.add(ids->i64(static_cast<int>(i), 0));
      host.add(x.host_id > 0 ? x.host_id : std::int64_t{0});
      ip.add(x.ip);
      domain.add(x.domain);
      outcome.add(x.outcome);
      code.add(static_cast<std::int64_t>(x.code));
      reason.add(x.reason);
      token.add(x.token);
      started.add(x.started_at);
      duration.add(x.duration_us);
      greeting.add(x.greeting_host);
      esmtp.add(static_cast<std::int64_t>(x.esmtp ? 1 : 0));
      tls.add(static_cast<std::int64_t>(x.starttls_offered ? 1 : 0));
      grey.add(static_cast<std::int64_t>(x.greylisted ? 1 : 0));
      first_code.add(static_cast<std::int64_t>(x.first_code));
      first_reply.add(x.first_reply);
    }
    std::string sql =
        "INSERT INTO probes (id, run_id, host_id, ip, domain, outcome, code, reason, token, "
        "started_at, duration_us, greeting_host, esmtp, starttls_offered, greylisted, first_code, "
        "first_reply) "
        "SELECT u.id, $1::bigint, NULLIF(u.host, 0), u.ip, u.domain, u.outcome, u.code, u.reason, "
        "u.token, u.started, u.duration, u.greeting, u.esmtp, u.tls, u.grey, u.first_code, "
        "u.first_reply FROM unnest($2::bigint[], "
        "$3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], "
        "$10::text[], $11::bigint[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], "
        "$16::bigint[], $17::text[]) AS u(id, host, ip, "
        "domain, outcome, code, reason, token, started, duration, greeting, esmtp, tls, grey, "
        "first_code, first_reply)";
    std::vector<Param> params = {
        p(run_id),          id.param(),         host.param(),   ip.param(),    domain.param(),
        outcome.param(),    code.param(),       reason.param(), token.param(), started.param(),
        duration.param(),   greeting.param(),   esmtp.param(),  tls.param(),   grey.param(),
        first_code.param(), first_reply.param()};
    if (owner) {
      sql +=
          " WHERE u.host = 0 OR EXISTS (SELECT 1 FROM hosts h WHERE h.id = u.host AND "
          "h.run_id = $1 AND h.lease_owner = $18) "
          "ON CONFLICT (run_id, host_id) WHERE host_id IS NOT NULL DO NOTHING";
      params.push_back(p(*owner));
    }
    auto r = q(sql + " RETURNING id", params);
    if (!r) {
      if (c_->sqlstate() == "23505" || c_->sqlstate() == "23503") {
        return make_error("a host already probed in run " + std::to_string(run_id) +
                          ", or no such host: " + r.error().message);
      }
      return r.error();
    }
    std::set<std::int64_t> stored;
    for (int i = 0; i < r->rows(); ++i) stored.insert(r->i64(i, 0));
    Column lp, ls, lt, ld, lx;              // transcript lines
    Column vp, vs, vn, vf, vr, vo, vc, vt;  // variants
    for (std::size_t i = 0; i < probes.size(); ++i) {
      const auto& x = probes[i];
      auto pid = ids->i64(static_cast<int>(i), 0);
      if (!stored.count(pid)) {
        if (discarded) discarded->push_back(x.host_id);
        continue;
      }
      std::int64_t seq = 0;
      for (const auto& l : x.transcript) {
        lp.add(pid);
        ls.add(seq++);
        lt.add(l.t_us);
        ld.add(std::string(1, l.direction));
        lx.add(l.text);
      }
      seq = 0;
      for (const auto& v : x.variants) {
        vp.add(pid);
        vs.add(seq++);
        vn.add(v.name);
        vf.add(v.mail_from);
        vr.add(v.rcpt_to);
        vo.add(v.outcome);
        vc.add(static_cast<std::int64_t>(v.code));
        vt.add(v.token);
      }
    }
    if (lp.size() > 0) {
      auto l =
          q("INSERT INTO transcript_lines (probe_id, seq, t_us, direction, text) "
            "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], "
            "$5::text[])",
            {lp.param(), ls.param(), lt.param(), ld.param(), lx.param()});
      if (!l) return l.error();
    }
    if (vp.size() > 0) {
      auto v =
          q("INSERT INTO variants (probe_id, seq, name, mail_from, rcpt_to, outcome, code, "
            "token) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], "
            "$4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])",
            {vp.param(), vs.param(), vn.param(), vf.param(), vr.param(), vo.param(), vc.param(),
             vt.param()});
      if (!v) return v.error();
    }
    return Ok{};
  }

  Expected<std::vector<Host>> load_hosts(const std::string& where,
                                         const std::vector<Param>& params) {
    std::vector<Host> out;
    std::map<std::int64_t, std::size_t> index;
    auto r = q("SELECT h.id, h.ip, h.mx_host, h.fallback_ips, h.sampled FROM hosts h WHERE " +
                   where + " ORDER BY h.id",
               params);
    if (!r) return context(r.error(), "read hosts");
    for (int i = 0; i < r->rows(); ++i) {
      Host h;
      h.id = r->i64(i, 0);
      h.ip = r->text(i, 1);
      h.mx_host = r->text(i, 2);
      h.fallback_ips = from_json_list(r->text(i, 3));
      h.sampled = r->i64(i, 4) != 0;
      index[h.id] = out.size();
      out.push_back(std::move(h));
    }
    auto d =
        q("SELECT d.host_id, d.domain FROM host_domains d JOIN hosts h ON h.id = d.host_id "
          "WHERE " +
              where + " ORDER BY d.host_id, d.position",
          params);
    if (!d) return context(d.error(), "read host domains");
    for (int i = 0; i < d->rows(); ++i) {
      if (auto it = index.find(d->i64(i, 0)); it != index.end()) {
        out[it->second].domains.push_back(d->text(i, 1));
      }
    }
    return out;
  }

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

  Expected<std::vector<Run>> select_runs(std::optional<std::int64_t> only) {
    auto r =
        q("SELECT id, label, started_at, finished_at, status, params_json, names, "
          "lines_without_address, unique_domains, resolved_hosts, sampled, prepared, excluded "
          "FROM runs WHERE $1::bigint IS NULL OR id = $1 ORDER BY id",
          {only ? p(*only) : Param{}});
    if (!r) return context(r.error(), "read runs");
    std::vector<Run> out;
    for (int i = 0; i < r->rows(); ++i) {
      Run x;
      x.id = r->i64(i, 0);
      x.label = r->text(i, 1);
      x.started_at = r->text(i, 2);
      x.finished_at = r->text(i, 3);
      x.status = r->text(i, 4);
      x.params_json = r->text(i, 5);
      x.funnel.names = r->i64(i, 6);
      x.funnel.lines_without_address = r->i64(i, 7);
      x.funnel.unique_domains = r->i64(i, 8);
      x.funnel.resolved_hosts = r->i64(i, 9);
      x.funnel.sampled = r->i64(i, 10);
      x.prepared = r->i64(i, 11) != 0;
      x.funnel.excluded = r->i64(i, 12);
      out.push_back(std::move(x));
    }
    return out;
  }

  std::unique_ptr<Conn> c_;
};

}  // namespace

bool is_postgres_uri(const std::string& db) {
  return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

Expected<std::unique_ptr<Store>> open_postgres(const std::string& uri, OpenMode mode) {
  auto c = pg::Conn::open(uri);
  if (!c) return c.error();
  if (auto s = prepare_pg_schema(**c, mode == OpenMode::create); !s) {
    return make_error("PostgreSQL database: " + s.error().message);
  }
  return synchronized(std::unique_ptr<Store>(new PgStore(std::move(*c))));
}

Expected<std::unique_ptr<Store>> open_store(const std::string& db, OpenMode mode) {
  if (is_postgres_uri(db)) return open_postgres(db, mode);
  return open_sqlite(db, mode);
}

}  // namespace relayscope::store
