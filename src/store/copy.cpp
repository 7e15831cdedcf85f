// See copy.hpp. Everything goes through the Store interface, so any pair of
// backends works and the target's own batching applies.
#include "store/copy.hpp"

#include <map>
#include <set>

namespace relayscope::store {

Expected<CopyResult> copy_runs(Store& from, Store& to, const std::vector<std::int64_t>& wanted) {
  CopyResult result;
  std::vector<Run> runs;
  if (wanted.empty()) {
    auto all = from.list_runs();
    if (!all) return all.error();
    runs = std::move(*all);
  } else {
    for (auto id : wanted) {
      auto r = from.get_run(id);
      if (!r) return r.error();
      runs.push_back(std::move(*r));
    }
  }
  std::set<std::string> tokens;
  for (const auto& run : runs) {
    auto target = to.create_run(run);  // label, times, status, parameters, funnel, prepared
    if (!target) return target.error();
    result.runs.emplace_back(run.id, *target);
    auto res = from.get_resolutions(run.id);
    if (!res) return res.error();
    if (auto s = to.add_resolutions(*target, *res); !s) return s.error();
    auto hosts = from.get_hosts(run.id, false);
    if (!hosts) return hosts.error();
    std::vector<std::int64_t> old_ids;
    for (auto& h : *hosts) old_ids.push_back(std::exchange(h.id, 0));
    if (auto s = to.add_hosts(*target, *hosts); !s) return s.error();
    std::map<std::int64_t, std::int64_t> host_id;
    for (std::size_t i = 0; i < hosts->size(); ++i) host_id[old_ids[i]] = (*hosts)[i].id;
    result.hosts += static_cast<std::int64_t>(hosts->size());
    auto probes = from.get_probes(run.id, true);
    if (!probes) return probes.error();
    std::vector<Probe> batch;
    for (auto& p : *probes) {
      if (p.host_id > 0) {
        auto it = host_id.find(p.host_id);
        p.host_id = it == host_id.end() ? 0 : it->second;
      }
      if (!p.token.empty()) tokens.insert(p.token);
      for (const auto& v : p.variants) {
        if (!v.token.empty()) tokens.insert(v.token);
      }
      batch.push_back(std::move(p));
      if (batch.size() == 1000) {
        if (auto s = to.add_probes(*target, batch); !s) return s.error();
        result.probes += static_cast<std::int64_t>(batch.size());
        batch.clear();
      }
    }
    if (auto s = to.add_probes(*target, batch); !s) return s.error();
    result.probes += static_cast<std::int64_t>(batch.size());
  }
  auto arrivals = from.get_arrivals();
  if (!arrivals) return arrivals.error();
  for (const auto& a : *arrivals) {
    if (!wanted.empty() && !tokens.count(a.token)) continue;
    if (auto s = to.add_arrival(a); !s) return s.error();
    ++result.arrivals;
  }
  return result;
}

}  // namespace relayscope::store
