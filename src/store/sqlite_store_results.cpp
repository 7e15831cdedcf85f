// SQLite's Store (sqlite_store.hpp), its part on probes with their lines and variants,
// arrivals, and the hosts table of reports.
#include "store/host_row_arrivals.hpp"
#include "store/sqlite_store.hpp"

namespace relayscope::store::sqlite_backend {

Status SqliteStore::add_probes(std::int64_t run_id, const std::vector<Probe>& probes) {
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

Expected<std::vector<std::int64_t>> SqliteStore::probed_host_ids(std::int64_t run_id) {
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

Expected<std::vector<Probe>> SqliteStore::get_probes(std::int64_t run_id, bool with_transcripts) {
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

Status SqliteStore::add_arrival(const Arrival& a) {
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

Expected<bool> SqliteStore::token_known(const std::string& token) {
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

Expected<std::optional<TokenOwner>> SqliteStore::token_owner(const std::string& token) {
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

Expected<std::vector<Arrival>> SqliteStore::get_arrivals() {
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

Expected<std::vector<HostRow>> SqliteStore::host_rows(std::int64_t run_id) {
  if (auto s = check_run(run_id); !s) return s.error();
  // What the collector saw, by token: the few arrivals fit in memory.
  ArrivedTokens arrived;
  {
    auto st = db_->prepare(
        "SELECT token, kind FROM arrivals WHERE token <> '' AND kind IN ('delivery', 'bounce')");
    if (!st) return st.error();
    for (;;) {
      auto row = st->step();
      if (!row) return context(row.error(), "read arrivals");
      if (!*row) break;
      arrived.add(st->text(0), st->text(1));
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
      mark_arrivals(h, arrived);
      index[st->i64(0)] = out.size();
      out.push_back(std::move(h));
    }
  }
  auto s = read_variants(run_id, [&](std::int64_t probe_id, const VariantResult& v) {
    auto it = index.find(probe_id);
    if (it == index.end()) return;
    fold_variant(out[it->second], v, arrived);
  });
  if (!s) return s.error();
  return out;
}

}  // namespace relayscope::store::sqlite_backend
