// The text report of DESIGN.md's contract: the funnel, then the IMC's table
// ("Response     Number     Percent"), several runs as { a, b, c } in run
// order; then the collector's figures, the reasons and the variants.
#include <functional>

#include "report/escape.hpp"
#include "report/render.hpp"
#include "report/wilson.hpp"

namespace relayscope::report {

namespace {

using Row = std::vector<std::string>;

// One figure per run, as "{ a, b, c }" (or alone for one run).
std::string per_run(const ReportData& d, const std::function<std::string(const RunReport&)>& f) {
  std::vector<std::string> v;
  for (const auto& r : d.runs) v.push_back(f(r));
  return figures(v);
}

std::string run_heading(const RunReport& r) {
  std::string s = "Run " + std::to_string(r.id);
  if (!r.label.empty()) s += " \"" + printable(r.label) + "\"";
  std::string when;
  if (!r.started_at.empty()) when = "started " + printable(r.started_at);
  if (!r.status.empty()) when += (when.empty() ? "" : ", ") + printable(r.status);
  if (!r.finished_at.empty()) when += " " + printable(r.finished_at);
  if (!when.empty()) s += ": " + when;
  return s + "\n";
}

std::string funnel(const ReportData& d) {
  std::vector<Row> rows;
  for (const auto& f : shown_funnel(d)) {
    rows.push_back(
        {f.label, per_run(d, [&](const RunReport& r) { return std::to_string(f.get(r)); })});
  }
  return text_table(rows, {17});
}

std::string outcomes(const ReportData& d, const RenderOptions& o) {
  std::vector<Row> rows = {{"Response", "Number", "Percent"}};
  if (o.ci) rows.front().push_back("95% interval");
  for (const auto& name : outcome_rows(d)) {
    auto n_of = [&](const RunReport& r) {
      auto it = r.outcomes.find(name);
      return it == r.outcomes.end() ? std::int64_t{0} : it->second;
    };
    Row row = {name, per_run(d, [&](const RunReport& r) { return std::to_string(n_of(r)); }),
               per_run(d, [&](const RunReport& r) {
                 return format_tenths(percent_tenths(n_of(r), percent_base(r)));
               })};
    if (o.ci) {
      row.push_back(per_run(d, [&](const RunReport& r) {
        return format_interval(wilson(n_of(r), percent_base(r)));
      }));
    }
    rows.push_back(std::move(row));
  }
  return text_table(rows, {13, 11, o.ci ? std::size_t{12} : std::size_t{0}});
}

std::string collector(const ReportData& d) {
  bool any = false;
  for (const auto& r : d.runs) any = any || r.delivered.has_value();
  std::string out;
  if (any) {
    auto opt = [](const std::optional<std::int64_t>& v) {
      return v ? std::to_string(*v) : std::string("-");
    };
    std::vector<Row> rows = {{"Collector", "Number"}};
    rows.push_back({"Delivered", per_run(d, [&](const RunReport& r) { return opt(r.delivered); })});
    rows.push_back({"Bounced", per_run(d, [&](const RunReport& r) { return opt(r.bounced); })});
    out += "\n" + text_table(rows, {13, 11});
  }
  if (d.unmatched_arrivals > 0) {
    out += "Unmatched arrivals (any run): " + std::to_string(d.unmatched_arrivals) + "\n";
  }
  return out;
}

std::string reasons(const ReportData& d) {
  auto t = reason_table(d);
  if (t.rows.empty()) return {};
  std::vector<Row> rows = {{"Response", "Class", "Number", "Reason"}};
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    std::vector<std::string> v;
    for (auto n : t.counts[i]) v.push_back(std::to_string(n));
    auto cls = reply_class(t.rows[i].reason);
    rows.push_back(
        {t.rows[i].outcome, cls.empty() ? "-" : cls, figures(v), printable(t.rows[i].reason)});
  }
  return "\nReasons\n" + text_table(rows, {13, 8, 11});
}

std::string variants(const ReportData& d) {
  auto names = variant_rows(d);
  if (names.empty()) return {};
  std::vector<Row> rows = {{"Variant", "Relayed", "Tested"}};
  for (const auto& n : names) {
    auto get = [&](const RunReport& r) {
      auto it = r.variants.find(n);
      return it == r.variants.end() ? VariantCount{} : it->second;
    };
    rows.push_back({printable(n),
                    per_run(d, [&](const RunReport& r) { return std::to_string(get(r).relayed); }),
                    per_run(d, [&](const RunReport& r) { return std::to_string(get(r).tested); })});
  }
  rows.push_back({"any variant",
                  per_run(d, [](const RunReport& r) { return std::to_string(r.relayed_any); }),
                  per_run(d, [](const RunReport& r) { return std::to_string(r.probed); })});
  return "\nVariants that relayed (hosts)\n" + text_table(rows, {13, 11});
}

// Greylisted hosts apart (--greylist-retry), by what their retry answered,
// then every host's verdict.
std::string verdicts(const ReportData& d) {
  if (!has_verdicts(d)) return {};
  std::string out;
  if (auto retried = greylisted_rows(d); !retried.empty()) {
    std::vector<Row> rows = {{"Greylisted", "Number"}};
    for (const auto& o : retried) {
      rows.push_back({"greylisted, then " + printable(o), per_run(d, [&](const RunReport& r) {
                        return std::to_string(count_of(r.greylisted, o));
                      })});
    }
    out += "\n" + text_table(rows, {24, 11});
  }
  std::vector<Row> rows = {{"Verdict", "Number", "Percent"}};
  for (const auto& v : verdict_order()) {
    rows.push_back(
        {v, per_run(d, [&](const RunReport& r) { return std::to_string(count_of(r.verdicts, v)); }),
         per_run(d, [&](const RunReport& r) {
           return format_tenths(percent_tenths(count_of(r.verdicts, v), percent_base(r)));
         })});
  }
  return out + "\n" + text_table(rows, {13, 11});
}

}  // namespace

std::string render_text(const ReportData& d, const RenderOptions& o) {
  if (d.runs.empty()) return "No runs.\n";
  std::string out;
  for (const auto& r : d.runs) out += run_heading(r);
  out += "\n" + funnel(d) + "\n" + outcomes(d, o) + collector(d) + reasons(d) + variants(d) +
         verdicts(d);
  return out;
}

}  // namespace relayscope::report
