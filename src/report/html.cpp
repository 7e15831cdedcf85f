// The report as one self-contained HTML page: inline CSS and an inline SVG
// chart (outcome shares per run, stacked, oldest run first: the trend), no
// script, no external resource, so it opens anywhere without a network.
#include <functional>

#include "report/escape.hpp"
#include "report/render.hpp"

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

std::string chart(const ReportData& d) {
  auto outcomes = outcome_rows(d);
  const int plot_h = 300, top = 16, left = 48, bar_w = 72, gap = 56, bottom = 52;
  const int n = static_cast<int>(d.runs.size());
  const int width = left + gap / 2 + n * (bar_w + gap) + 150;  // 150: the legend
  const int height = top + plot_h + bottom;
  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" class=\"chart\" viewBox=\"0 0 " +
      std::to_string(width) + " " + std::to_string(height) + "\" width=\"" + std::to_string(width) +
      "\" height=\"" + std::to_string(height) +
      "\" aria-labelledby=\"chart-title\">\n<title id=\"chart-title\">Outcome shares "
      "per run (percent of sampled hosts)</title>\n";
  // Grid and axis: 0..100 %.
  for (int p = 0; p <= 100; p += 25) {
    int y = top + plot_h - plot_h * p / 100;
    s += "<line class=\"grid\" x1=\"" + std::to_string(left) + "\" x2=\"" +
         std::to_string(left + n * (bar_w + gap) + gap / 2) + "\" y1=\"" + std::to_string(y) +
         "\" y2=\"" + std::to_string(y) + "\"/>";
    s += "<text class=\"axis\" x=\"" + std::to_string(left - 6) + "\" y=\"" +
         std::to_string(y + 4) + "\" text-anchor=\"end\">" + std::to_string(p) + "%</text>\n";
  }
  for (int i = 0; i < n; ++i) {
    const auto& r = d.runs[static_cast<std::size_t>(i)];
    int x = left + gap / 2 + i * (bar_w + gap) + gap / 2;
    auto base = percent_base(r);
    // Stacked from the baseline up in reverse table order: OK at the bottom.
    double y = top + plot_h;
    for (auto it = outcomes.rbegin(); it != outcomes.rend(); ++it) {
      auto c = count_of(r, *it);
      if (c == 0 || base <= 0) continue;
      double h = static_cast<double>(plot_h) * static_cast<double>(c) / static_cast<double>(base);
      y -= h;
      char geo[128];
      std::snprintf(geo, sizeof geo, "x=\"%d\" y=\"%.2f\" width=\"%d\" height=\"%.2f\"", x, y,
                    bar_w, h);
      s += "<rect class=\"seg\" data-outcome=\"" + html_escape(*it) + "\" " + geo + " fill=\"" +
           colour(*it) + "\"><title>" + html_escape(run_name(r)) + ": " + html_escape(*it) + " " +
           std::to_string(c) + " (" + pct(c, r) + "%)</title></rect>";
      if (h >= 15) {
        char pos[96];
        std::snprintf(pos, sizeof pos, "x=\"%d\" y=\"%.2f\"", x + bar_w / 2, y + h / 2 + 4);
        s += "<text class=\"seglabel\" " + std::string(pos) + " text-anchor=\"middle\">" +
             pct(c, r) + "%</text>";
      }
      s += "\n";
    }
    int lx = x + bar_w / 2;
    s += "<text class=\"runlabel\" x=\"" + std::to_string(lx) + "\" y=\"" +
         std::to_string(top + plot_h + 18) + "\" text-anchor=\"middle\">" +
         html_escape(short_text(run_name(r), 16)) + "</text>";
    s += "<text class=\"axis\" x=\"" + std::to_string(lx) + "\" y=\"" +
         std::to_string(top + plot_h + 34) + "\" text-anchor=\"middle\">" +
         html_escape(r.started_at.substr(0, 10)) + "</text>\n";
  }
  // Legend in table order.
  int lx = left + gap / 2 + n * (bar_w + gap) + 16;
  int ly = top + 8;
  for (const auto& o : outcomes) {
    s += "<rect x=\"" + std::to_string(lx) + "\" y=\"" + std::to_string(ly - 10) +
         "\" width=\"12\" height=\"12\" rx=\"2\" fill=\"" + colour(o) + "\"/>";
    s += "<text class=\"legend\" x=\"" + std::to_string(lx + 18) + "\" y=\"" + std::to_string(ly) +
         "\">" + html_escape(o) + "</text>\n";
    ly += 20;
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
.chart{max-width:100%;height:auto}
.chart .grid{stroke:#e6eaef;stroke-width:1}
.chart .axis{fill:#6b7684;font-size:11px}
.chart .runlabel{fill:#1d2430;font-size:12px;font-weight:600}
.chart .seglabel{fill:#fff;font-size:11px;font-weight:600}
.chart .legend{fill:#1d2430;font-size:12px}
.chart rect.seg{stroke:#fff;stroke-width:1}
footer{color:var(--muted);font-size:12px}
)css";

}  // namespace

std::string render_html(const ReportData& d) {
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
  auto num = [](std::int64_t v) { return std::to_string(v); };
  h += num_row("Names", d, [&](const RunReport& r) { return num(r.funnel.names); });
  h += num_row("Unique hosts", d, [&](const RunReport& r) { return num(r.funnel.unique_domains); });
  h += num_row("Resolved hosts", d,
               [&](const RunReport& r) { return num(r.funnel.resolved_hosts); });
  h += num_row("Sampled", d, [&](const RunReport& r) { return num(r.funnel.sampled); });
  h += num_row("Probed", d, [&](const RunReport& r) { return num(r.probed); });
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
      h += "<td class=\"n\">" + std::to_string(c) + " <span class=\"pct\">" + pct(c, r) +
           "%</span></td>";
    }
    h += "</tr>\n";
  }
  h += "</tbody>\n</table>\n</section>\n";

  bool collector = false;
  for (const auto& r : d.runs) collector = collector || r.delivered.has_value();
  if (collector) {
    auto opt = [](const std::optional<std::int64_t>& v) {
      return v ? std::to_string(*v) : std::string("&ndash;");
    };
    h += "<section id=\"collector\">\n<h2>Verified by the collector</h2>\n<table>\n<thead><tr>"
         "<th></th>" +
         th_runs(d) + "</tr></thead>\n<tbody>\n";
    h += num_row("Delivered", d, [&](const RunReport& r) { return opt(r.delivered); });
    h += num_row("Bounced", d, [&](const RunReport& r) { return opt(r.bounced); });
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
    h += "</tbody>\n</table>\n</section>\n";
  }
  h += "<footer>Percentages are of the sampled hosts, one decimal. Generated by relayscope."
       "</footer>\n</main>\n</body>\n</html>\n";
  return h;
}

}  // namespace relayscope::report
