// `report --hosts`: one row per probed host, in every format. The CSV starts
// with the contract's columns domain,ip,outcome,code,reason; the rest follow.
#include <nlohmann/json.hpp>

#include "report/escape.hpp"
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
      "domain,ip,outcome,code,reason,reply,delivered,bounced,relaying_variants,run_id,token\n";
  for (const auto& r : rows) {
    out += csv_field(r.domain) + "," + csv_field(r.ip) + "," + csv_field(r.outcome) + "," +
           code_of(r) + "," + csv_field(r.reason) + "," + csv_field(r.reply) + "," +
           (r.delivered ? "1" : "0") + "," + (r.bounced ? "1" : "0") + "," +
           csv_field(joined(r.relaying_variants, ";")) + "," + std::to_string(r.run_id) + "," +
           csv_field(r.token) + "\n";
  }
  return out;
}

std::string hosts_json(const std::vector<store::HostRow>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows) {
    a.push_back({{"run_id", r.run_id},
                 {"domain", r.domain},
                 {"ip", r.ip},
                 {"outcome", r.outcome},
                 {"code", r.code > 0 ? nlohmann::json(r.code) : nlohmann::json(nullptr)},
                 {"reason", r.reason},
                 {"reply", r.reply},
                 {"token", r.token},
                 {"delivered", r.delivered},
                 {"bounced", r.bounced},
                 {"relaying_variants", r.relaying_variants}});
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
  std::vector<std::string> head = {"Domain",    "IP",      "Outcome",          "Code", "Reason",
                                   "Delivered", "Bounced", "Variants relayed", "Reply"};
  if (runs) head.insert(head.begin(), "Run");
  t.push_back(head);
  for (const auto& r : rows) {
    std::string variants;
    if (r.relaying_variants.size() == 1) variants = printable(r.relaying_variants.front());
    if (r.relaying_variants.size() > 1) variants = std::to_string(r.relaying_variants.size());
    std::vector<std::string> row = {
        printable(r.domain), printable(r.ip),     printable(r.outcome), code_of(r),
        printable(r.reason), yes_no(r.delivered), yes_no(r.bounced),    variants,
        printable(r.reply)};
    if (runs) row.insert(row.begin(), std::to_string(r.run_id));
    t.push_back(std::move(row));
  }
  return text_table(t, {});
}

std::string hosts_markdown(const std::vector<store::HostRow>& rows) {
  std::string out =
      "| Run | Domain | IP | Outcome | Code | Reason | Delivered | Bounced | Variants that relayed "
      "| Reply |\n|---:|---|---|---|---:|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    out += "| " + std::to_string(r.run_id) + " | " + markdown_escape(r.domain) + " | " +
           markdown_escape(r.ip) + " | " + markdown_escape(r.outcome) + " | " + code_of(r) + " | " +
           markdown_escape(r.reason) + " | " + yes_no(r.delivered) + " | " + yes_no(r.bounced) +
           " | " + markdown_escape(joined(r.relaying_variants, ", ")) + " | " +
           markdown_escape(r.reply) + " |\n";
  }
  return out;
}

std::string hosts_html(const std::vector<store::HostRow>& rows) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>relayscope: probed hosts</title><style>"
      "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1d2430}"
      "table{border-collapse:collapse}th,td{padding:.25em .6em;border-bottom:1px solid #dde3ea;"
      "text-align:left}th{background:#f3f6f9}td.n{text-align:right}"
      "tr.OK td,tr.QUIT td{background:#fdecea}code{font-size:12px}"
      "</style></head><body><h1>Probed hosts</h1><table><thead><tr><th>Run</th><th>Domain</th>"
      "<th>IP</th><th>Outcome</th><th>Code</th><th>Reason</th><th>Delivered</th><th>Bounced</th>"
      "<th>Variants that relayed</th><th>Reply</th></tr></thead><tbody>\n";
  for (const auto& r : rows) {
    out += "<tr class=\"" + html_escape(r.outcome) + "\"><td class=\"n\">" +
           std::to_string(r.run_id) + "</td><td>" + html_escape(r.domain) + "</td><td>" +
           html_escape(r.ip) + "</td><td>" + html_escape(r.outcome) + "</td><td class=\"n\">" +
           code_of(r) + "</td><td>" + html_escape(r.reason) + "</td><td>" + yes_no(r.delivered) +
           "</td><td>" + yes_no(r.bounced) + "</td><td>" +
           html_escape(joined(r.relaying_variants, ", ")) + "</td><td><code>" +
           html_escape(r.reply) + "</code></td></tr>\n";
  }
  return out + "</tbody></table></body></html>\n";
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
