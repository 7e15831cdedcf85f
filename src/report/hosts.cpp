// `report --hosts`: one row per probed host, in every format. The CSV starts
// with the contract's columns domain,ip,outcome,code,reason; the rest follow.
// HTML is a page that sorts and filters by itself, offline. Every format
// ends with greylisted (yes/no: 4xx at RCPT TO, then retried) and verdict
// (relayed, refused, inconclusive: model.hpp), then the first answer of a
// greylisted host (first_reply).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "report/escape.hpp"
#include "report/model.hpp"
#include "report/render.hpp"

namespace relayscope::report {

namespace {

std::string code_of(const store::HostRow& r) {
  return r.code > 0 ? std::to_string(r.code) : "";
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string yes_no(bool b) {
  return b ? "yes" : "no";
}

std::string hosts_csv(const std::vector<store::HostRow>& rows) {
  std::string out =
      "domain,ip,outcome,code,reason,reply,delivered,bounced,relaying_variants,run_id,token,"
      "greylisted,verdict,first_reply\n";
  for (const auto& r : rows) {
    out += csv_field(r.domain) + "," + csv_field(r.ip) + "," + csv_field(r.outcome) + "," +
           code_of(r) + "," + csv_field(r.reason) + "," + csv_field(r.reply) + "," +
           (r.delivered ? "1" : "0") + "," + (r.bounced ? "1" : "0") + "," +
           csv_field(joined(r.relaying_variants, ";")) + "," + std::to_string(r.run_id) + "," +
           csv_field(r.token) + "," + yes_no(r.greylisted) + "," + verdict_of(r) + "," +
           csv_field(r.first_reply) + "\n";
  }
  return out;
}

std::string hosts_json(const std::vector<store::HostRow>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows) {
    a.push_back(
        {{"run_id", r.run_id},
         {"domain", r.domain},
         {"ip", r.ip},
         {"outcome", r.outcome},
         {"code", r.code > 0 ? nlohmann::json(r.code) : nlohmann::json(nullptr)},
         {"reason", r.reason},
         {"reply", r.reply},
         {"token", r.token},
         {"delivered", r.delivered},
         {"bounced", r.bounced},
         {"relaying_variants", r.relaying_variants},
         {"greylisted", r.greylisted},
         {"verdict", verdict_of(r)},
         {"first_code", r.first_code > 0 ? nlohmann::json(r.first_code) : nlohmann::json(nullptr)},
         {"first_reply", r.first_reply}});
    if (!r.transcript.empty()) {
      auto& t = a.back()["transcript"] = nlohmann::json::array();
      for (const auto& l : r.transcript) {
        t.push_back({{"t_us", l.t_us}, {"dir", std::string(1, l.direction)}, {"text", l.text}});
      }
    }
  }
  return nlohmann::json{{"hosts", a}}.dump(2, ' ', false,
                                           nlohmann::json::error_handler_t::replace) +
         "\n";
}

bool several_runs(const std::vector<store::HostRow>& rows) {
  for (const auto& r : rows) {
    if (r.run_id != rows.front().run_id) return true;
  }
  return false;
}

// Text keeps one short line per host: how many variants relayed (their
// names are in the other formats), the reply line last since it varies most.
std::string hosts_text(const std::vector<store::HostRow>& rows) {
  bool runs = several_runs(rows);
  std::vector<std::vector<std::string>> t;
  std::vector<std::string> head = {"Domain", "IP",         "Outcome", "Code",
                                   "Reason", "Delivered",  "Bounced", "Variants relayed",
                                   "Reply",  "Greylisted", "Verdict"};
  if (runs) head.insert(head.begin(), "Run");
  t.push_back(head);
  for (const auto& r : rows) {
    std::string variants;
    if (r.relaying_variants.size() == 1) variants = printable(r.relaying_variants.front());
    if (r.relaying_variants.size() > 1) variants = std::to_string(r.relaying_variants.size());
    std::vector<std::string> row = {
        printable(r.domain), printable(r.ip),      printable(r.outcome), code_of(r),
        printable(r.reason), yes_no(r.delivered),  yes_no(r.bounced),    variants,
        printable(r.reply),  yes_no(r.greylisted), verdict_of(r)};
    if (runs) row.insert(row.begin(), std::to_string(r.run_id));
    t.push_back(std::move(row));
  }
  return text_table(t, {});
}

std::string hosts_markdown(const std::vector<store::HostRow>& rows) {
  std::string out =
      "| Run | Domain | IP | Outcome | Code | Reason | Delivered | Bounced | Variants that relayed "
      "| Reply | Greylisted | Verdict | First reply |\n"
      "|---:|---|---|---|---:|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    out += "| " + std::to_string(r.run_id) + " | " + markdown_escape(r.domain) + " | " +
           markdown_escape(r.ip) + " | " + markdown_escape(r.outcome) + " | " + code_of(r) + " | " +
           markdown_escape(r.reason) + " | " + yes_no(r.delivered) + " | " + yes_no(r.bounced) +
           " | " + markdown_escape(joined(r.relaying_variants, ", ")) + " | " +
           markdown_escape(r.reply) + " | " + yes_no(r.greylisted) + " | " + verdict_of(r) + " | " +
           markdown_escape(r.first_reply) + " |\n";
  }
  return out;
}

// The hosts page sorts (click a column head; again to reverse) and filters
// (free text over the whole row, and by outcome) with a few lines of inline
// script: no library, nothing fetched, so it works offline. Without script
// it is the plain table, in report order.
const char* kHostsScript = R"js(
(function () {
  var table = document.getElementById("hosts");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var text = document.getElementById("filter");
  var outcome = document.getElementById("outcome");
  var shown = document.getElementById("shown");
  function key(row, col, numeric) {
    var v = row.cells[col].getAttribute("data-sort");
    if (v === null) v = row.cells[col].textContent;
    return numeric ? (v === "" ? -1 : Number(v)) : v.toLowerCase();
  }
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var numeric = th.getAttribute("data-type") === "number";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = key(a, col, numeric), y = key(b, col, numeric);
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  function filter() {
    var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
    var want = outcome.value, n = 0;
    rows.forEach(function (r) {
      var hay = r.textContent.toLowerCase();
      var ok = (!want || r.getAttribute("data-outcome") === want) &&
        words.every(function (w) { return hay.indexOf(w) >= 0; });
      r.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n + " of " + rows.length + " hosts";
  }
  text.addEventListener("input", filter);
  outcome.addEventListener("change", filter);
  filter();
})();
)js";

// An IPv4 address as a number, so that 127.0.0.10 sorts after 127.0.0.9;
// anything else sorts as text.
std::string ip_sort_key(const std::string& ip) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  char end = 0;
  if (std::sscanf(ip.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4 && a < 256 && b < 256 &&
      c < 256 && d < 256) {
    return std::to_string((static_cast<unsigned long long>(a) << 24) | (b << 16) | (c << 8) | d);
  }
  return "";
}

std::string hosts_html(const std::vector<store::HostRow>& rows) {
  std::set<std::string> outcomes;
  for (const auto& r : rows) outcomes.insert(r.outcome);
  std::vector<std::string> present(outcomes.begin(), outcomes.end());
  std::stable_sort(present.begin(), present.end(), [](const std::string& a, const std::string& b) {
    const auto& order = outcome_order();
    auto ra = std::find(order.begin(), order.end(), a) - order.begin();
    auto rb = std::find(order.begin(), order.end(), b) - order.begin();
    return ra < rb;
  });
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>relayscope: probed hosts</title><style>"
      "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1d2430}"
      "table{border-collapse:collapse;width:100%}th,td{padding:.25em .6em;"
      "border-bottom:1px solid #dde3ea;text-align:left}th{background:#f3f6f9;cursor:pointer;"
      "user-select:none;white-space:nowrap}th[aria-sort=ascending]::after{content:\" \\25B2\"}"
      "th[aria-sort=descending]::after{content:\" \\25BC\"}td.n{text-align:right}"
      "tr.OK td,tr.QUIT td{background:#fdecea}code{font-size:12px}"
      ".tools{display:flex;gap:1em;align-items:center;margin:0 0 1em}"
      ".tools input{font:inherit;padding:.3em .5em;min-width:22em}"
      ".tools select{font:inherit;padding:.3em}#shown{color:#5f6b7a}"
      "</style></head><body><h1>Probed hosts</h1>\n"
      "<div class=\"tools\"><label>Filter <input id=\"filter\" type=\"search\" "
      "placeholder=\"domain, address, reason...\"></label><label>Outcome <select id=\"outcome\">"
      "<option value=\"\">all</option>";
  for (const auto& o : present) {
    out += "<option value=\"" + html_escape(o) + "\">" + html_escape(o) + "</option>";
  }
  out += "</select></label><span id=\"shown\">" + std::to_string(rows.size()) +
         " hosts</span></div>\n"
         "<table id=\"hosts\"><thead><tr><th data-type=\"number\">Run</th><th>Domain</th>"
         "<th data-type=\"number\">IP</th><th>Outcome</th><th data-type=\"number\">Code</th>"
         "<th>Reason</th><th>Delivered</th><th>Bounced</th><th>Variants that relayed</th>"
         "<th>Reply</th><th>Greylisted</th><th>Verdict</th><th>First reply</th></tr></thead>"
         "<tbody>\n";
  for (const auto& r : rows) {
    auto ip_key = ip_sort_key(r.ip);
    out += "<tr class=\"" + html_escape(r.outcome) + "\" data-outcome=\"" + html_escape(r.outcome) +
           "\"><td class=\"n\">" + std::to_string(r.run_id) + "</td><td>" + html_escape(r.domain) +
           "</td><td" + (ip_key.empty() ? std::string() : " data-sort=\"" + ip_key + "\"") + ">" +
           html_escape(r.ip) + "</td><td data-sort=\"" +
           std::to_string(std::find(outcome_order().begin(), outcome_order().end(), r.outcome) -
                          outcome_order().begin()) +
           "\">" + html_escape(r.outcome) + "</td><td class=\"n\">" + code_of(r) + "</td><td>" +
           html_escape(r.reason) + "</td><td>" + yes_no(r.delivered) + "</td><td>" +
           yes_no(r.bounced) + "</td><td>" + html_escape(joined(r.relaying_variants, ", ")) +
           "</td><td><code>" + html_escape(r.reply) + "</code></td><td>" + yes_no(r.greylisted) +
           "</td><td>" + verdict_of(r) + "</td><td><code>" + html_escape(r.first_reply) +
           "</code></td></tr>\n";
  }
  return out + "</tbody></table>\n<script>" + kHostsScript + "</script>\n</body></html>\n";
}

}  // namespace

std::string render_hosts(const std::vector<store::HostRow>& rows, Format format) {
  switch (format) {
    case Format::csv:
      return hosts_csv(rows);
    case Format::json:
      return hosts_json(rows);
    case Format::markdown:
      return hosts_markdown(rows);
    case Format::html:
      return hosts_html(rows);
    case Format::text:
      break;
  }
  return hosts_text(rows);
}

}  // namespace relayscope::report
