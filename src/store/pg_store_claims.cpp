// PostgreSQL's Store (pg_store.hpp), its part on leases of hosts and addresses
// for --join workers.
#include "store/pg_store.hpp"

namespace relayscope::store::pg_backend {

Expected<std::vector<Host>> PgStore::claim_hosts(std::int64_t run_id, const std::string& owner,
                                                 std::size_t n, std::int64_t lease_ms) {
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

Status PgStore::renew_leases(std::int64_t run_id, const std::string& owner, std::int64_t lease_ms) {
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

Expected<std::vector<std::int64_t>> PgStore::add_leased_probes(std::int64_t run_id,
                                                               const std::string& owner,
                                                               const std::vector<Probe>& probes) {
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

Expected<bool> PgStore::claim_address(std::int64_t run_id, const std::string& ip,
                                      const std::string& owner, std::int64_t lease_ms) {
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

Status PgStore::release_address(std::int64_t run_id, const std::string& ip,
                                const std::string& owner) {
  auto r =
      q("UPDATE address_leases SET lease_until = 0 WHERE run_id = $1 AND ip = $2 "
        "AND owner = $3",
        {p(run_id), p(ip), p(owner)});
  if (!r) return context(r.error(), "release an address");
  return Ok{};
}

Expected<std::int64_t> PgStore::unprobed_count(std::int64_t run_id) {
  if (auto s = check_run(run_id); !s) return s.error();
  auto r =
      q("SELECT count(*) FROM hosts h WHERE h.run_id = $1 AND h.sampled <> 0 AND NOT "
        "EXISTS (SELECT 1 FROM probes x WHERE x.run_id = h.run_id AND x.host_id = h.id)",
        {p(run_id)});
  if (!r) return context(r.error(), "count unprobed hosts");
  return r->i64(0, 0);
}

}  // namespace relayscope::store::pg_backend
