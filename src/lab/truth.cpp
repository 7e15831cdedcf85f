// See truth.hpp.
#include "lab/truth.hpp"

#include <nlohmann/json.hpp>

namespace relayscope::lab {

std::string truth_json(const TruthHeader& header, const LabPlan& plan,
                       const std::unordered_map<std::size_t, HostTally>& tallies,
                       const LedgerTotals& totals) {
  using nlohmann::json;
  json j;
  j["profile"] = header.profile;
  j["seed"] = header.seed;
  j["dns"] = header.dns;
  j["port"] = header.port;
  j["relay_port"] = header.relay_port;
  j["funnel"] = {{"names", plan.funnel.names},
                 {"unique_domains", plan.funnel.unique_domains},
                 {"resolved_domains", plan.funnel.resolved_domains},
                 {"junk_lines", plan.funnel.junk_lines}};
  j["counts"] = {{"behaviours", plan.behaviour_counts()},
                 {"expected_outcomes", plan.outcome_counts()},
                 {"unresolved", plan.unresolved_counts()}};
  std::map<std::string, std::int64_t> fates;
  for (const auto& h : plan.hosts) ++fates[to_string(info(h.behaviour).fate)];
  j["counts"]["fates"] = fates;
  j["totals"] = {{"events", totals.events},
                 {"hosts_delivered", totals.hosts_delivered},
                 {"hosts_bounced", totals.hosts_bounced},
                 {"hosts_dropped", totals.hosts_dropped}};
  json hosts = json::array();
  for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
    const auto& h = plan.hosts[i];
    const auto& bi = info(h.behaviour);
    json e = {{"ip", plan.host_ip(i)},
              {"domain", plan.host_domain(i)},
              {"mx", plan.host_name(i)},
              {"resolution", to_string(h.resolution)},
              {"behaviour", bi.name},
              {"what", bi.what},
              {"expected_outcome", expected_outcome(h)},
              {"fate", to_string(bi.fate)},
              {"listening", has_listener(h.behaviour)}};
    if (plan.timing.enabled) {
      e["timing"] = {{"rtt_ms", h.timing.rtt_ms},
                     {"greeting_ms", h.timing.greeting_ms},
                     {"close_after_errors", h.timing.close_after_errors},
                     {"greylisted", h.timing.greylist}};
      // What a retry after the greylisting delay gets: the behaviour's own.
      if (h.timing.greylist) e["expected_outcome_after_retry"] = bi.outcome;
    }
    if (h.backup_ip) e["backup_ip"] = ipv4_to_string(h.backup_ip);
    if (is_trick(h.behaviour)) e["relays_for_variants"] = trick_variants(h.behaviour);
    if (auto it = tallies.find(i); it != tallies.end()) {
      json counts = json::object();
      for (const auto& [kind, n] : it->second.counts) counts[to_string(kind)] = n;
      e["events"] = counts;
      json recent = json::array();
      for (const auto& ev : it->second.recent) {
        json r = {{"kind", to_string(ev.kind)},
                  {"recipient", ev.recipient},
                  {"detail", ev.detail},
                  {"t_ms", ev.t_ms}};
        if (!ev.token.empty()) r["token"] = ev.token;
        if (!ev.trick.empty()) r["trick"] = ev.trick;
        recent.push_back(std::move(r));
      }
      e["recent"] = std::move(recent);
    }
    hosts.push_back(std::move(e));
  }
  j["hosts"] = std::move(hosts);
  json unresolved = json::array();
  for (const auto& d : plan.domains) {
    if (!d.resolved) unresolved.push_back({{"domain", d.name}, {"status", to_string(d.failure)}});
  }
  j["unresolved"] = std::move(unresolved);
  // Invalid UTF-8 in a detail (a hostile peer's reply) is replaced, not fatal.
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace relayscope::lab
