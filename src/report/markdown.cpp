// The report as Markdown tables (for issues, wikis, pull requests): one
// column per run, each cell "number (percent%)".
#include <functional>

#include "report/escape.hpp"
#include "report/render.hpp"
#include "report/wilson.hpp"

namespace relayscope::report {

namespace {

std::string run_title(const RunReport& r) {
  std::string t = "Run " + std::to_string(r.id);
  if (!r.label.empty()) t += ": " + markdown_escape(r.label);
  return t;
}

struct Table {
  std::string out;
  Table(const std::string& first, const ReportData& d, bool single_header = false,
        const std::vector<std::string>& single = {}) {
    out += "| " + first + " |";
    std::string rule = "|---|";
    if (single_header) {
      for (const auto& h : single) {
        out += " " + h + " |";
        rule += "---:|";
      }
    } else {
      for (const auto& r : d.runs) {
        out += " " + run_title(r) + " |";
        rule += "---:|";
      }
    }
    out += "\n" + rule + "\n";
  }
  void row(const std::string& first, const std::vector<std::string>& cells) {
    out += "| " + first + " |";
    for (const auto& c : cells) out += " " + c + " |";
    out += "\n";
  }
};

std::vector<std::string> cells(const ReportData& d,
                               const std::function<std::string(const RunReport&)>& f) {
  std::vector<std::string> v;
  for (const auto& r : d.runs) v.push_back(f(r));
  return v;
}

}  // namespace

std::string render_markdown(const ReportData& d, const RenderOptions& opt) {
  std::string out = "# relayscope report\n\n";
  if (d.runs.empty()) return out + "No runs.\n";
  for (const auto& r : d.runs) {
    out += "- **" + run_title(r) + "**";
    if (!r.started_at.empty()) out += ", started " + markdown_escape(r.started_at);
    if (!r.status.empty()) out += ", " + markdown_escape(r.status);
    out += "\n";
  }

  out += "\n## Funnel\n\n";
  Table f("", d);
  for (const auto& fig : shown_funnel(d)) {
    f.row(fig.label, cells(d, [&](const RunReport& r) { return std::to_string(fig.get(r)); }));
  }
  out += f.out;

  out += "\n## Outcomes\n\n";
  bool one = d.runs.size() == 1;
  std::vector<std::string> single = {"Number", "Percent"};
  if (opt.ci) single.emplace_back("95% interval");
  Table o("Response", d, one, single);
  for (const auto& name : outcome_rows(d)) {
    auto n_of = [&](const RunReport& r) {
      auto it = r.outcomes.find(name);
      return it == r.outcomes.end() ? std::int64_t{0} : it->second;
    };
    auto pct = [&](const RunReport& r) {
      return format_tenths(percent_tenths(n_of(r), percent_base(r)));
    };
    auto ci = [&](const RunReport& r) { return format_interval(wilson(n_of(r), percent_base(r))); };
    if (one) {
      std::vector<std::string> row = {std::to_string(n_of(d.runs[0])), pct(d.runs[0])};
      if (opt.ci) row.push_back(ci(d.runs[0]));
      o.row(name, row);
    } else {
      o.row(name, cells(d, [&](const RunReport& r) {
              return std::to_string(n_of(r)) + " (" + pct(r) + "%" +
                     (opt.ci ? "; 95%: " + ci(r) : std::string()) + ")";
            }));
    }
  }
  out += o.out;

  bool collector = false;
  for (const auto& r : d.runs) collector = collector || r.delivered.has_value();
  if (collector) {
    out += "\n## Collector\n\n";
    Table c("", d);
    auto or_dash = [](const std::optional<std::int64_t>& v) {
      return v ? std::to_string(*v) : std::string("-");
    };
    c.row("Delivered", cells(d, [&](const RunReport& r) { return or_dash(r.delivered); }));
    c.row("Bounced", cells(d, [&](const RunReport& r) { return or_dash(r.bounced); }));
    out += c.out;
  }
  if (d.unmatched_arrivals > 0) {
    out += "\nUnmatched arrivals (any run): " + std::to_string(d.unmatched_arrivals) + "\n";
  }

  auto t = reason_table(d);
  if (!t.rows.empty()) {
    out += "\n## Reasons\n\n| Response | Class | Reason |";
    std::string rule = "|---|---|---|";
    for (const auto& r : d.runs) {
      out += " " + run_title(r) + " |";
      rule += "---:|";
    }
    out += "\n" + rule + "\n";
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
      auto cls = reply_class(t.rows[i].reason);
      out += "| " + t.rows[i].outcome + " | " + (cls.empty() ? "-" : cls) + " | " +
             markdown_escape(t.rows[i].reason) + " |";
      for (auto n : t.counts[i]) out += " " + std::to_string(n) + " |";
      out += "\n";
    }
  }

  auto names = variant_rows(d);
  if (!names.empty()) {
    out += "\n## Variants that relayed\n\nHosts relayed / hosts tested.\n\n";
    Table v("Variant", d);
    for (const auto& n : names) {
      v.row(markdown_escape(n), cells(d, [&](const RunReport& r) {
              auto it = r.variants.find(n);
              auto c = it == r.variants.end() ? VariantCount{} : it->second;
              return std::to_string(c.relayed) + " / " + std::to_string(c.tested);
            }));
    }
    v.row("any variant", cells(d, [](const RunReport& r) {
            return std::to_string(r.relayed_any) + " / " + std::to_string(r.probed);
          }));
    out += v.out;
  }
  if (has_verdicts(d)) {
    if (auto retried = greylisted_rows(d); !retried.empty()) {
      out +=
          "\n## Greylisted\n\nHosts that answered 4xx at RCPT TO, by what the retry "
          "answered.\n\n";
      Table g("Retry", d);
      for (const auto& retry : retried) {
        g.row("greylisted, then " + markdown_escape(retry), cells(d, [&](const RunReport& r) {
                return std::to_string(count_of(r.greylisted, retry));
              }));
      }
      out += g.out;
    }
    out += "\n## Verdicts\n\n";
    Table v("Verdict", d);
    for (const auto& name : verdict_order()) {
      v.row(name, cells(d, [&](const RunReport& r) {
              auto n = count_of(r.verdicts, name);
              return std::to_string(n) + " (" + format_tenths(percent_tenths(n, percent_base(r))) +
                     "%)";
            }));
    }
    out += v.out;
  }
  return out;
}

}  // namespace relayscope::report
