// PostgreSQL's Store (pg_store.hpp), its part on domains, resolutions and hosts.
#include "store/pg_store.hpp"

namespace relayscope::store::pg_backend {

Status PgStore::add_domains(std::int64_t run_id, const std::vector<Domain>& domains) {
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

Status PgStore::add_resolutions(std::int64_t run_id, const std::vector<Resolution>& rs) {
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

Status PgStore::add_hosts(std::int64_t run_id, std::vector<Host>& hosts) {
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

Expected<std::vector<Host>> PgStore::get_hosts(std::int64_t run_id, bool sampled_only) {
  if (auto s = check_run(run_id); !s) return s.error();
  return load_hosts("h.run_id = $1 AND ($2 = 0 OR h.sampled <> 0)", {p(run_id), p(sampled_only)});
}

Expected<std::vector<Resolution>> PgStore::get_resolutions(std::int64_t run_id) {
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

Expected<std::vector<Host>> PgStore::load_hosts(const std::string& where,
                                                const std::vector<Param>& params) {
  std::vector<Host> out;
  std::map<std::int64_t, std::size_t> index;
  auto r = q("SELECT h.id, h.ip, h.mx_host, h.fallback_ips, h.sampled FROM hosts h WHERE " + where +
                 " ORDER BY h.id",
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

}  // namespace relayscope::store::pg_backend
