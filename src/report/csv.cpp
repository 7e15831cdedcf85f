// The summary as one tidy CSV table for spreadsheets: a row per figure,
// `run_id,label,table,name,detail,number,percent`, where table is funnel,
// outcome, outcome_class, outcome_ci95 (with --ci: detail low or high, the
// interval's end in percent), reason, collector or variant.
#include <cmath>

#include "report/escape.hpp"
#include "report/render.hpp"
#include "report/wilson.hpp"

namespace relayscope::report {

namespace {

struct Writer {
  std::string out = "run_id,label,table,name,detail,number,percent\n";
  void row(const RunReport& r, const std::string& table, const std::string& name,
           const std::string& detail, std::int64_t number, const std::string& percent = "") {
    out += std::to_string(r.id) + "," + csv_field(r.label) + "," + table + "," + csv_field(name) +
           "," + csv_field(detail) + "," + std::to_string(number) + "," + percent + "\n";
  }
};

}  // namespace

std::string render_csv(const ReportData& d, const RenderOptions& opt) {
  Writer w;
  for (const auto& r : d.runs) {
    for (const auto& f : funnel_figures()) w.row(r, "funnel", f.key, "", f.get(r));
    auto base = percent_base(r);
    auto pct = [&](std::int64_t n) { return format_tenths(percent_tenths(n, base)); };
    for (const auto& o : outcome_rows(d)) {
      auto it = r.outcomes.find(o);
      auto n = it == r.outcomes.end() ? 0 : it->second;
      w.row(r, "outcome", o, "", n, pct(n));
      if (opt.ci) {
        auto i = wilson(n, base);
        w.row(r, "outcome_ci95", o, "low", n, format_tenths(std::llround(i.low * 1000.0)));
        w.row(r, "outcome_ci95", o, "high", n, format_tenths(std::llround(i.high * 1000.0)));
      }
      if (auto t = r.transient.find(o); t != r.transient.end()) {
        w.row(r, "outcome_class", o, "4xx", t->second, pct(t->second));
      }
      if (auto p = r.permanent.find(o); p != r.permanent.end()) {
        w.row(r, "outcome_class", o, "5xx", p->second, pct(p->second));
      }
    }
    for (const auto& [key, n] : ordered_reasons(r))
      w.row(r, "reason", key.outcome, key.reason, n, pct(n));
    if (r.delivered) w.row(r, "collector", "delivered", "", *r.delivered);
    if (r.bounced) w.row(r, "collector", "bounced", "", *r.bounced);
    for (const auto& [name, c] : r.variants) {
      w.row(r, "variant", name, "relayed", c.relayed);
      w.row(r, "variant", name, "tested", c.tested);
    }
  }
  return w.out;
}

}  // namespace relayscope::report
