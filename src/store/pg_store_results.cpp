// PostgreSQL's Store (pg_store.hpp), its part on probes with their lines and variants,
// arrivals, and the hosts table of reports.
#include "store/host_row_arrivals.hpp"
#include "store/pg_store.hpp"

namespace relayscope::store::pg_backend {

Status PgStore::add_probes(std::int64_t run_id, const std::vector<Probe>& probes) {
  if (probes.empty()) return Ok{};
  if (auto s = check_run(run_id); !s) return s;
  return in_transaction(
      "add probes", [&]() -> Status { return insert_probes(run_id, probes, nullptr, nullptr); });
}

Expected<std::vector<std::int64_t>> PgStore::probed_host_ids(std::int64_t run_id) {
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

Expected<std::vector<Probe>> PgStore::get_probes(std::int64_t run_id, bool with_transcripts) {
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

Status PgStore::add_arrival(const Arrival& a) {
  auto r =
      q("INSERT INTO arrivals (token, kind, received_at, client_ip, mail_from, rcpt_to, "
        "message_path) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {p(a.token), p(a.kind), p(a.received_at), p(a.client_ip), p(a.mail_from), p(a.rcpt_to),
         p(a.message_path)});
  if (!r) return context(r.error(), "add arrival");
  return Ok{};
}

Expected<bool> PgStore::token_known(const std::string& token) {
  if (token.empty()) return false;
  auto r =
      q("SELECT 1 FROM probes WHERE token = $1 AND token <> '' UNION ALL "
        "SELECT 1 FROM variants WHERE token = $1 AND token <> '' LIMIT 1",
        {p(token)});
  if (!r) return context(r.error(), "look up a token");
  return r->rows() > 0;
}

Expected<std::optional<TokenOwner>> PgStore::token_owner(const std::string& token) {
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

Expected<std::vector<Arrival>> PgStore::get_arrivals() {
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

Expected<std::vector<HostRow>> PgStore::host_rows(std::int64_t run_id) {
  if (auto s = check_run(run_id); !s) return s.error();
  std::vector<HostRow> out;
  auto s = in_snapshot([&]() -> Status {
    out.clear();
    ArrivedTokens arrived;
    auto a =
        q("SELECT token, kind FROM arrivals WHERE token <> '' "
          "AND kind IN ('delivery', 'bounce')");
    if (!a) return context(a.error(), "read arrivals");
    for (int i = 0; i < a->rows(); ++i) {
      arrived.add(a->text(i, 0), a->text(i, 1));
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
      mark_arrivals(h, arrived);
      index[r->i64(i, 0)] = out.size();
      out.push_back(std::move(h));
    }
    return read_variants(run_id, [&](std::int64_t probe_id, const VariantResult& v) {
      auto it = index.find(probe_id);
      if (it == index.end()) return;
      fold_variant(out[it->second], v, arrived);
    });
  });
  if (!s) return s.error();
  return out;
}

Status PgStore::insert_probes(std::int64_t run_id, const std::vector<Probe>& probes,
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

}  // namespace relayscope::store::pg_backend
