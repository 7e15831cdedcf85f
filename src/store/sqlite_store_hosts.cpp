// SQLite's Store (sqlite_store.hpp), its part on domains, resolutions and hosts.
#include "store/sqlite_store.hpp"

namespace relayscope::store::sqlite_backend {

Status SqliteStore::add_domains(std::int64_t run_id, const std::vector<Domain>& domains) {
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

Status SqliteStore::add_resolutions(std::int64_t run_id, const std::vector<Resolution>& rs) {
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

Status SqliteStore::add_hosts(std::int64_t run_id, std::vector<Host>& hosts) {
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

Expected<std::vector<Host>> SqliteStore::get_hosts(std::int64_t run_id, bool sampled_only) {
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

Expected<std::vector<Resolution>> SqliteStore::get_resolutions(std::int64_t run_id) {
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

}  // namespace relayscope::store::sqlite_backend
