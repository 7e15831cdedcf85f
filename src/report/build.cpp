// See build.hpp.
#include "report/build.hpp"

#include <charconv>
#include <map>
#include <set>

namespace relayscope::report {

namespace {

// Targets the run dropped as excluded, out of scope or of a family not
// surveyed. Read from the store's funnel as soon as it records them (the
// survey's counts land there: store::Funnel::excluded, and, if kept apart,
// out_of_scope and unsupported_family); until then 0, so this file builds
// against either store.
template <typename F>
std::int64_t excluded_of(const F& f) {
  std::int64_t n = 0;
  if constexpr (requires { f.excluded; }) n += static_cast<std::int64_t>(f.excluded);
  if constexpr (requires { f.out_of_scope; }) n += static_cast<std::int64_t>(f.out_of_scope);
  if constexpr (requires { f.unsupported_family; }) {
    n += static_cast<std::int64_t>(f.unsupported_family);
  }
  return n;
}

}  // namespace

Expected<std::vector<std::int64_t>> parse_run_ids(const std::string& spec) {
  std::vector<std::int64_t> ids;
  std::size_t start = 0;
  for (;;) {
    auto end = spec.find(',', start);
    auto item = spec.substr(start, end == std::string::npos ? std::string::npos : end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    std::int64_t id = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || id <= 0) {
      return make_error("bad run id '" + item + "' in --runs (want all, latest or ID,ID,...)");
    }
    ids.push_back(id);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return ids;
}

Expected<std::vector<std::int64_t>> select_runs(store::Store& store, const std::string& spec) {
  auto runs = store.list_runs();
  if (!runs) return runs.error();
  std::vector<std::int64_t> all;
  for (const auto& r : *runs) all.push_back(r.id);
  if (spec == "all") return all;
  if (spec.empty() || spec == "latest") {
    if (all.empty()) return all;
    return std::vector<std::int64_t>{all.back()};
  }
  auto ids = parse_run_ids(spec);
  if (!ids) return ids.error();
  std::set<std::int64_t> known(all.begin(), all.end());
  for (auto id : *ids) {
    if (known.count(id)) continue;
    std::string there;
    for (auto k : all) there += (there.empty() ? "" : ", ") + std::to_string(k);
    return make_error("unknown run id " + std::to_string(id) +
                      (there.empty() ? " (the database holds no runs)" : " (runs: " + there + ")"));
  }
  return ids;
}

Expected<ReportData> build_report(store::Store& store, const std::vector<std::int64_t>& run_ids) {
  ReportData data;
  auto arrivals = store.get_arrivals();
  if (!arrivals) return arrivals.error();
  bool with_arrivals = !arrivals->empty();
  for (const auto& a : *arrivals) {
    // The collector records the token it found even before the probe that
    // sent it is stored; whether it matches a probe is decided here.
    bool matched = false;
    if (!a.token.empty() && a.kind != "unmatched") {
      auto known = store.token_known(a.token);
      if (!known) return known.error();
      matched = *known;
    }
    if (!matched) ++data.unmatched_arrivals;
  }
  for (auto id : run_ids) {
    auto run = store.get_run(id);
    if (!run) return run.error();
    RunReport r;
    r.id = run->id;
    r.label = run->label;
    r.started_at = run->started_at;
    r.finished_at = run->finished_at;
    r.status = run->status;
    r.funnel = run->funnel;
    r.excluded = excluded_of(run->funnel);
    auto rows = store.host_rows(id);
    if (!rows) return rows.error();
    for (const auto& row : *rows) add_host(r, row, with_arrivals);
    auto probes = store.get_probes(id, false);
    if (!probes) return probes.error();
    for (const auto& p : *probes) {
      if (!p.variants.empty()) add_variants(r, p.variants);
    }
    data.runs.push_back(std::move(r));
  }
  return data;
}

Expected<std::vector<store::HostRow>> build_host_rows(store::Store& store,
                                                      const std::vector<std::int64_t>& run_ids,
                                                      bool with_transcripts) {
  std::vector<store::HostRow> out;
  for (auto id : run_ids) {
    auto rows = store.host_rows(id);
    if (!rows) return rows.error();
    if (with_transcripts) {
      // One probe per host and run: the address ties a probe to its row.
      auto probes = store.get_probes(id, true);
      if (!probes) return probes.error();
      std::map<std::string, std::vector<store::TranscriptLine>> by_ip;
      for (auto& p : *probes) by_ip[p.ip] = std::move(p.transcript);
      for (auto& r : *rows) {
        if (auto it = by_ip.find(r.ip); it != by_ip.end()) r.transcript = std::move(it->second);
      }
    }
    out.insert(out.end(), std::make_move_iterator(rows->begin()),
               std::make_move_iterator(rows->end()));
  }
  return out;
}

}  // namespace relayscope::report
