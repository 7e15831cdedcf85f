// The report as one self-contained HTML page: inline CSS and inline SVG
// charts (outcome shares per run, stacked, oldest run first: the trend; and
// which relay tricks relayed per run), no script, no external resource, so
// it opens anywhere without a network.
#include <algorithm>
#include <cstdio>
#include <functional>

#include "report/escape.hpp"
#include "report/render.hpp"
#include "report/wilson.hpp"

namespace relayscope::report {

namespace {

// Relaying (OK) in red at the baseline, refusals (TO) in green.
std::string colour(const std::string& outcome) {
  if (outcome == "CONNECT") return "#8c96a3";
  if (outcome == "EHLO") return "#a77bca";
  if (outcome == "MAIL") return "#5b8fd1";
  if (outcome == "TO") return "#3fa36b";
  if (outcome == "DATA") return "#e3b341";
  if (outcome == "QUIT") return "#f0883e";
  if (outcome == "OK") return "#d1453b";
  return "#c4c9d0";
}

std::string run_name(const RunReport& r) {
  return r.label.empty() ? "Run " + std::to_string(r.id) : r.label;
}

std::string short_text(const std::string& s, std::size_t n) {
  if (s.size() <= n) return s;
  std::string out = s.substr(0, n - 1);
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0) == 0x80) out.pop_back();
  if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xc0) out.pop_back();
  return out + "\xe2\x80\xa6";  // ellipsis
}

std::int64_t count_of(const RunReport& r, const std::string& outcome) {
  auto it = r.outcomes.find(outcome);
  return it == r.outcomes.end() ? 0 : it->second;
}

std::string pct(std::int64_t n, const RunReport& r) {
  return format_tenths(percent_tenths(n, percent_base(r)));
}

// A run's name where `chars` allow it; else "Run ID", which tells runs
// apart where a cut label ("monthly…") would not.
std::string fitted_name(const RunReport& r, std::size_t chars) {
  auto name = run_name(r);
  if (name.size() <= chars) return name;
  auto id = "Run " + std::to_string(r.id);
  return id.size() <= chars ? id : short_text(id, chars);
}

// The run's day, "2024-03-01", or "03-01" where that is too wide.
std::string fitted_date(const RunReport& r, std::size_t chars) {
  auto day = r.started_at.substr(0, 10);
  if (day.size() <= chars || day.size() < 10) return short_text(day, chars);
  return short_text(day.substr(5), chars);
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

// The trend: one stacked bar per run, on a fixed 1000-unit-wide canvas that
// the page scales to its full width (viewBox, width 100%). Bars and labels
// share the width between the runs: wide bars for 2 runs, narrower ones
// (and shorter labels) for 12, never overlapping. The legend sits on top.
std::string chart(const ReportData& d) {
  auto outcomes = outcome_rows(d);
  const double width = 1000, left = 44, right = 12, top = 40, plot_h = 280, bottom = 48;
  const int n = std::max<int>(1, static_cast<int>(d.runs.size()));
  const double plot_w = width - left - right;
  const double slot = plot_w / n;
  const double bar_w = std::min(120.0, slot * 0.62);
  // A bold 12-unit character is up to ~8.5 units wide: 9.5 a character
  // leaves a gap between neighbouring labels.
  const auto label_chars = static_cast<std::size_t>(std::max(4.0, slot / 9.5));
  const double height = top + plot_h + bottom;
  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" class=\"chart\" id=\"trend-chart\" "
      "viewBox=\"0 0 " +
      num(width) + " " + num(height) +
      "\" width=\"100%\" preserveAspectRatio=\"xMidYMin meet\" aria-labelledby=\"chart-title\">\n"
      "<title id=\"chart-title\">Outcome shares per run (percent of sampled hosts)</title>\n";
  // Legend in table order, across the top.
  double lx = left;
  for (const auto& o : outcomes) {
    s += "<rect x=\"" + num(lx) + "\" y=\"8\" width=\"12\" height=\"12\" rx=\"2\" fill=\"" +
         colour(o) + "\"/><text class=\"legend\" x=\"" + num(lx + 17) + "\" y=\"18\">" +
         html_escape(o) + "</text>\n";
    lx += 30 + 8.0 * static_cast<double>(o.size());
  }
  // Grid and axis: 0..100 %.
  for (int p = 0; p <= 100; p += 25) {
    double y = top + plot_h - plot_h * p / 100;
    s += "<line class=\"grid\" x1=\"" + num(left) + "\" x2=\"" + num(width - right) + "\" y1=\"" +
         num(y) + "\" y2=\"" + num(y) + "\"/><text class=\"axis\" x=\"" + num(left - 6) +
         "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" + std::to_string(p) + "%</text>\n";
  }
  for (std::size_t i = 0; i < d.runs.size(); ++i) {
    const auto& r = d.runs[i];
    double x = left + slot * static_cast<double>(i) + (slot - bar_w) / 2;
    auto base = percent_base(r);
    // Stacked from the baseline up in reverse table order: OK at the bottom.
    double y = top + plot_h;
    for (auto it = outcomes.rbegin(); it != outcomes.rend(); ++it) {
      auto c = count_of(r, *it);
      if (c == 0 || base <= 0) continue;
      double h = plot_h * static_cast<double>(c) / static_cast<double>(base);
      y -= h;
      s += "<rect class=\"seg\" data-outcome=\"" + html_escape(*it) + "\" x=\"" + num(x) +
           "\" y=\"" + num(y) + "\" width=\"" + num(bar_w) + "\" height=\"" + num(h) +
           "\" fill=\"" + colour(*it) + "\"><title>" + html_escape(run_name(r)) + ": " +
           html_escape(*it) + " " + std::to_string(c) + " (" + pct(c, r) + "%)</title></rect>";
      // A share's label only where it fits inside its segment.
      if (h >= 15 && bar_w >= 34) {
        s += "<text class=\"seglabel\" x=\"" + num(x + bar_w / 2) + "\" y=\"" + num(y + h / 2 + 4) +
             "\" text-anchor=\"middle\">" + pct(c, r) + "%</text>";
      }
      s += "\n";
    }
    double cx = x + bar_w / 2;
    s += "<text class=\"runlabel\" x=\"" + num(cx) + "\" y=\"" + num(top + plot_h + 18) +
         "\" text-anchor=\"middle\"><title>" + html_escape(run_name(r)) + "</title>" +
         html_escape(fitted_name(r, label_chars)) + "</text>";
    s += "<text class=\"axis\" x=\"" + num(cx) + "\" y=\"" + num(top + plot_h + 34) +
         "\" text-anchor=\"middle\">" + html_escape(fitted_date(r, label_chars)) + "</text>\n";
  }
  return s + "</svg>\n";
}

// Which relay tricks relayed, run by run: one row per variant, one cell per
// run, shaded by the share of the hosts tested that it relayed through, with
// "relayed / tested" written in it. Full page width, like the trend.
std::string variants_chart(const ReportData& d, const std::vector<std::string>& names) {
  const double width = 1000, label_w = 190, row_h = 26, top = 26;
  const double n = static_cast<double>(std::max<std::size_t>(1, d.runs.size()));
  const double cell_w = (width - label_w) / n;
  const double height = top + row_h * static_cast<double>(names.size()) + 8;
  std::string s =
      "<svg role=\"img\" class=\"chart\" id=\"variants-chart\" viewBox=\"0 0 " + num(width) + " " +
      num(height) +
      "\" width=\"100%\" preserveAspectRatio=\"xMidYMin meet\" aria-labelledby=\"vc-title\">\n"
      "<title id=\"vc-title\">Relay tricks that relayed, per run (hosts relayed / hosts "
      "tested)</title>\n";
  const auto label_chars = static_cast<std::size_t>(std::max(4.0, cell_w / 9.5));
  for (std::size_t j = 0; j < d.runs.size(); ++j) {
    double cx = label_w + cell_w * (static_cast<double>(j) + 0.5);
    s += "<text class=\"runlabel\" x=\"" + num(cx) + "\" y=\"16\" text-anchor=\"middle\">" +
         html_escape(fitted_name(d.runs[j], label_chars)) + "</text>\n";
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    double y = top + row_h * static_cast<double>(i);
    s += "<text class=\"legend\" x=\"" + num(label_w - 8) + "\" y=\"" + num(y + row_h / 2 + 4) +
         "\" text-anchor=\"end\">" + html_escape(short_text(names[i], 26)) + "</text>\n";
    for (std::size_t j = 0; j < d.runs.size(); ++j) {
      const auto& r = d.runs[j];
      auto it = r.variants.find(names[i]);
      auto c = it == r.variants.end() ? VariantCount{} : it->second;
      double share =
          c.tested > 0 ? static_cast<double>(c.relayed) / static_cast<double>(c.tested) : 0.0;
      // Not tried in that run: grey; tried: white (none relayed) to red (all did).
      std::string fill =
          c.tested == 0 ? "#eef0f3" : "rgba(209,69,59," + num(0.08 + 0.92 * share) + ")";
      double x = label_w + cell_w * static_cast<double>(j);
      s += "<rect class=\"cell\" data-variant=\"" + html_escape(names[i]) + "\" data-run=\"" +
           std::to_string(r.id) + "\" data-relayed=\"" + std::to_string(c.relayed) +
           "\" data-tested=\"" + std::to_string(c.tested) + "\" x=\"" + num(x + 1) + "\" y=\"" +
           num(y + 1) + "\" width=\"" + num(cell_w - 2) + "\" height=\"" + num(row_h - 2) +
           "\" fill=\"" + fill + "\"><title>" + html_escape(names[i]) + ", " +
           html_escape(run_name(r)) + ": " + std::to_string(c.relayed) + " of " +
           std::to_string(c.tested) + " hosts relayed</title></rect>";
      s += "<text class=\"celllabel" + std::string(share > 0.5 ? " dark" : "") + "\" x=\"" +
           num(x + cell_w / 2) + "\" y=\"" + num(y + row_h / 2 + 4) + "\" text-anchor=\"middle\">" +
           (c.tested == 0 ? std::string("&ndash;")
                          : std::to_string(c.relayed) + " / " + std::to_string(c.tested)) +
           "</text>\n";
    }
  }
  return s + "</svg>\n";
}

std::string th_runs(const ReportData& d) {
  std::string s;
  for (const auto& r : d.runs) s += "<th class=\"n\">" + html_escape(run_name(r)) + "</th>";
  return s;
}

std::string num_row(const std::string& name, const ReportData& d,
                    const std::function<std::string(const RunReport&)>& f) {
  std::string s = "<tr><th scope=\"row\">" + html_escape(name) + "</th>";
  for (const auto& r : d.runs) s += "<td class=\"n\">" + f(r) + "</td>";
  return s + "</tr>\n";
}

const char* kStyle = R"css(
:root{--ink:#1d2430;--muted:#5f6b7a;--line:#e1e6ec;--bg:#f6f8fa;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:18px;margin:0 0 12px}
h2.sub{font-size:15px;margin:18px 0 8px}
p.sub{color:var(--muted);margin:0 0 24px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:0 0 20px;overflow-x:auto}
table{border-collapse:collapse;width:auto;min-width:50%}
th,td{padding:6px 14px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
thead th{font-size:13px;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line)}
th[scope=row]{font-weight:600}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pct{color:var(--muted);font-size:13px}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:8px;vertical-align:-1px}
td.reason{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
.chart{display:block;width:100%;height:auto}
.chart .grid{stroke:#e6eaef;stroke-width:1}
.chart .axis{fill:#6b7684;font-size:11px}
.chart .runlabel{fill:#1d2430;font-size:12px;font-weight:600}
.chart .seglabel{fill:#fff;font-size:11px;font-weight:600}
.chart .legend{fill:#1d2430;font-size:12px}
.chart rect.seg{stroke:#fff;stroke-width:1}
.chart .celllabel{fill:#1d2430;font-size:12px;font-variant-numeric:tabular-nums}
.chart .celllabel.dark{fill:#fff;font-weight:600}
footer{color:var(--muted);font-size:12px}
)css";

}  // namespace

std::string render_html(const ReportData& d, const RenderOptions& opt) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>relayscope report</title>\n<style>" +
      std::string(kStyle) + "</style>\n</head>\n<body>\n<main>\n<h1>relayscope report</h1>\n";
  if (d.runs.empty()) return h + "<p class=\"sub\">No runs.</p>\n</main>\n</body>\n</html>\n";

  h += "<p class=\"sub\">";
  for (std::size_t i = 0; i < d.runs.size(); ++i) {
    const auto& r = d.runs[i];
    if (i) h += " &middot; ";
    h += "Run " + std::to_string(r.id);
    if (!r.label.empty()) h += " <strong>" + html_escape(r.label) + "</strong>";
    if (!r.started_at.empty()) h += ", " + html_escape(r.started_at);
    if (!r.status.empty() && r.status != "done") h += " (" + html_escape(r.status) + ")";
  }
  h += "</p>\n";

  h += "<section id=\"trend\">\n<h2>Outcome shares per run</h2>\n<p class=\"pct\">Percent of "
       "the sampled hosts, oldest run first. Relaying hosts (OK) sit on the baseline.</p>\n" +
       chart(d) + "</section>\n";

  h += "<section id=\"funnel\">\n<h2>Funnel</h2>\n<table>\n<thead><tr><th></th>" + th_runs(d) +
       "</tr></thead>\n<tbody>\n";
  for (const auto& f : shown_funnel(d)) {
    h += num_row(f.label, d, [&](const RunReport& r) { return std::to_string(f.get(r)); });
  }
  h += "</tbody>\n</table>\n</section>\n";

  h += "<section id=\"outcomes\">\n<h2>Outcomes</h2>\n<table>\n<thead><tr><th>Response</th>" +
       th_runs(d) + "</tr></thead>\n<tbody>\n";
  for (const auto& o : outcome_rows(d)) {
    h += "<tr data-outcome=\"" + html_escape(o) +
         "\"><th scope=\"row\"><span class=\"sw\" "
         "style=\"background:" +
         colour(o) + "\"></span>" + html_escape(o) + "</th>";
    for (const auto& r : d.runs) {
      auto c = count_of(r, o);
      h += "<td class=\"n\">" + std::to_string(c) + " <span class=\"pct\">" + pct(c, r) + "%";
      if (opt.ci) {
        h +=
            " <span class=\"ci\">(95%: " + format_interval(wilson(c, percent_base(r))) + ")</span>";
      }
      h += "</span></td>";
    }
    h += "</tr>\n";
  }
  h += "</tbody>\n</table>\n</section>\n";

  bool collector = false;
  for (const auto& r : d.runs) collector = collector || r.delivered.has_value();
  if (collector) {
    auto or_dash = [](const std::optional<std::int64_t>& v) {
      return v ? std::to_string(*v) : std::string("&ndash;");
    };
    h += "<section id=\"collector\">\n<h2>Verified by the collector</h2>\n<table>\n<thead><tr>"
         "<th></th>" +
         th_runs(d) + "</tr></thead>\n<tbody>\n";
    h += num_row("Delivered", d, [&](const RunReport& r) { return or_dash(r.delivered); });
    h += num_row("Bounced", d, [&](const RunReport& r) { return or_dash(r.bounced); });
    h += "</tbody>\n</table>\n";
    if (d.unmatched_arrivals > 0) {
      h +=
          "<p class=\"pct\">Unmatched arrivals (any run): " + std::to_string(d.unmatched_arrivals) +
          "</p>\n";
    }
    h += "</section>\n";
  }

  auto t = reason_table(d);
  if (!t.rows.empty()) {
    h += "<section id=\"reasons\">\n<h2>Reasons</h2>\n<table>\n<thead><tr><th>Response</th>"
         "<th>Class</th><th>Reason</th>" +
         th_runs(d) + "</tr></thead>\n<tbody>\n";
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
      auto cls = reply_class(t.rows[i].reason);
      h += "<tr><th scope=\"row\">" + html_escape(t.rows[i].outcome) + "</th><td>" +
           (cls.empty() ? "&ndash;" : cls) + "</td><td class=\"reason\">" +
           html_escape(t.rows[i].reason) + "</td>";
      for (auto c : t.counts[i]) h += "<td class=\"n\">" + std::to_string(c) + "</td>";
      h += "</tr>\n";
    }
    h += "</tbody>\n</table>\n</section>\n";
  }

  auto names = variant_rows(d);
  if (!names.empty()) {
    h += "<section id=\"variants\">\n<h2>Variants that relayed</h2>\n<p class=\"pct\">Hosts "
         "relayed / hosts tested.</p>\n<table>\n<thead><tr><th>Variant</th>" +
         th_runs(d) + "</tr></thead>\n<tbody>\n";
    for (const auto& v : names) {
      h += num_row(v, d, [&](const RunReport& r) {
        auto it = r.variants.find(v);
        auto c = it == r.variants.end() ? VariantCount{} : it->second;
        return std::to_string(c.relayed) + " / " + std::to_string(c.tested);
      });
    }
    h += num_row("any variant", d, [](const RunReport& r) {
      return std::to_string(r.relayed_any) + " / " + std::to_string(r.probed);
    });
    h += "</tbody>\n</table>\n<h2 class=\"sub\">Which tricks relayed, run by run</h2>\n" +
         variants_chart(d, names) + "</section>\n";
  }
  if (has_verdicts(d)) {
    h += "<section id=\"verdicts\">\n<h2>Verdicts</h2>\n<table>\n<thead><tr><th>Verdict</th>" +
         th_runs(d) + "</tr></thead>\n<tbody>\n";
    for (const auto& v : verdict_order()) {
      h += num_row(v, d,
                   [&](const RunReport& r) { return std::to_string(count_of(r.verdicts, v)); });
    }
    for (const auto& o : greylisted_rows(d)) {
      h += num_row("greylisted, then " + o, d,
                   [&](const RunReport& r) { return std::to_string(count_of(r.greylisted, o)); });
    }
    h += "</tbody>\n</table>\n</section>\n";
  }
  h += "<footer>Percentages are of the sampled hosts, one decimal. Generated by relayscope."
       "</footer>\n</main>\n</body>\n</html>\n";
  return h;
}

}  // namespace relayscope::report
