// The report as JSON, for scripts: every figure of the model, percentages
// as numbers with one decimal. Invalid UTF-8 from remote servers is replaced
// (U+FFFD), never a reason to fail.
#include <cmath>
#include <nlohmann/json.hpp>

#include "report/render.hpp"
#include "report/wilson.hpp"

namespace relayscope::report {

namespace {

// Ordered: the outcomes keep the IMC's order, the funnel the order targets
// drop out in.
using json = nlohmann::ordered_json;

double percent(std::int64_t part, std::int64_t whole) {
  return static_cast<double>(percent_tenths(part, whole)) / 10.0;
}

std::int64_t get(const std::map<std::string, std::int64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

json run_json(const RunReport& r, const ReportData& d, const RenderOptions& opt) {
  json j;
  j["id"] = r.id;
  j["label"] = r.label;
  j["started_at"] = r.started_at;
  j["finished_at"] = r.finished_at;
  j["status"] = r.status;
  json funnel = json::object();
  for (const auto& f : funnel_figures()) funnel[f.key] = f.get(r);
  j["funnel"] = funnel;
  json outcomes = json::object();
  for (const auto& [o, n] : ordered_outcomes(r, d)) {
    outcomes[o] = {{"number", n},
                   {"percent", percent(n, percent_base(r))},
                   {"4xx", get(r.transient, o)},
                   {"5xx", get(r.permanent, o)}};
    if (opt.ci) {
      auto i = wilson(n, percent_base(r));
      // Percent, one decimal, like "percent".
      outcomes[o]["ci95"] = {std::round(i.low * 1000.0) / 10.0, std::round(i.high * 1000.0) / 10.0};
    }
  }
  j["outcomes"] = outcomes;
  json reasons = json::array();
  for (const auto& [key, n] : ordered_reasons(r)) {
    reasons.push_back({{"outcome", key.outcome},
                       {"class", reply_class(key.reason)},
                       {"reason", key.reason},
                       {"number", n}});
  }
  j["reasons"] = reasons;
  j["delivered"] = r.delivered ? json(*r.delivered) : json(nullptr);
  j["bounced"] = r.bounced ? json(*r.bounced) : json(nullptr);
  json variants = json::object();
  for (const auto& [name, c] : r.variants) {
    variants[name] = {{"relayed", c.relayed}, {"tested", c.tested}};
  }
  j["variants"] = variants;
  j["relayed_by_any_variant"] = r.relayed_any;
  // Hosts retried after a 4xx at RCPT TO, by the retry's outcome.
  json grey = json::object();
  for (const auto& [o, n] : r.greylisted) grey[o] = n;
  j["greylisted"] = grey;
  json verdicts = json::object();
  for (const auto& v : verdict_order()) verdicts[v] = get(r.verdicts, v);
  j["verdicts"] = verdicts;
  return j;
}

}  // namespace

std::string render_json(const ReportData& d, const RenderOptions& opt) {
  json j;
  j["runs"] = json::array();
  for (const auto& r : d.runs) j["runs"].push_back(run_json(r, d, opt));
  j["outcome_order"] = outcome_order();
  j["unmatched_arrivals"] = d.unmatched_arrivals;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace relayscope::report
