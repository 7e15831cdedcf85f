// SQLite's Store (sqlite_store.hpp), its part on leases of hosts and addresses
// for --join workers.
#include "store/sqlite_store.hpp"

namespace relayscope::store::sqlite_backend {

Expected<std::vector<Host>> SqliteStore::claim_hosts(std::int64_t run_id, const std::string& owner,
                                                     std::size_t n, std::int64_t lease_ms) {
  if (auto s = check_run(run_id); !s) return s.error();
  std::vector<std::int64_t> ids;
  auto s = in_transaction(*db_, "claim hosts", [&]() -> Status {
    auto st =
        db_->prepare(std::string("UPDATE hosts SET lease_owner = ?2, lease_until = ") + kNowMs +
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

Status SqliteStore::renew_leases(std::int64_t run_id, const std::string& owner,
                                 std::int64_t lease_ms) {
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

Expected<std::vector<std::int64_t>> SqliteStore::add_leased_probes(
    std::int64_t run_id, const std::string& owner, const std::vector<Probe>& probes) {
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

Expected<bool> SqliteStore::claim_address(std::int64_t run_id, const std::string& ip,
                                          const std::string& owner, std::int64_t lease_ms) {
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

Status SqliteStore::release_address(std::int64_t run_id, const std::string& ip,
                                    const std::string& owner) {
  auto st = db_->prepare(
      "UPDATE address_leases SET lease_until = 0 WHERE run_id = ?1 AND ip = ?2 AND owner = ?3");
  if (!st) return st.error();
  st->bind(1, run_id).bind(2, ip).bind(3, owner);
  if (auto r = st->run(); !r) return context(r.error(), "release an address");
  return Ok{};
}

Expected<std::int64_t> SqliteStore::unprobed_count(std::int64_t run_id) {
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

}  // namespace relayscope::store::sqlite_backend
