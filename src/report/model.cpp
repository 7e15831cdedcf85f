// See model.hpp. Counting and ordering only; no formatting beyond percent.
#include "report/model.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

namespace relayscope::report {

namespace {

constexpr std::size_t kMaxReason = 100;

int outcome_rank(const std::string& outcome) {
  const auto& order = outcome_order();
  auto it = std::find(order.begin(), order.end(), outcome);
  return static_cast<int>(it - order.begin());
}

bool outcome_less(const std::string& a, const std::string& b) {
  int ra = outcome_rank(a), rb = outcome_rank(b);
  return ra != rb ? ra < rb : a < b;
}

bool is_name_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_' || c == '.';
}

// A host's own name or address in a reply ("554 mx7.example.test ESMTP
// closed", "550 192.0.2.7 not allowed") as a placeholder, so that one
// refusal of many hosts is one row. A word is masked when it has two or
// more labels and its last label holds a letter (a name) or it is a dotted
// quad (an IPv4 address); enhanced status codes (5.7.1) stay.
std::string mask_word(std::string_view word) {
  std::string_view core = word;
  while (!core.empty() && core.back() == '.') core.remove_suffix(1);  // "denied."
  auto dot = core.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == core.size()) {
    return std::string(word);
  }
  if (core.find("..") != std::string_view::npos || core.front() == '.') return std::string(word);
  std::string_view tail = word.substr(core.size());
  auto last = core.substr(dot + 1);
  bool name = std::any_of(last.begin(), last.end(),
                          [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  if (name) return "{host}" + std::string(tail);
  bool digits_and_dots = std::all_of(core.begin(), core.end(), [](char c) {
    return c == '.' || std::isdigit(static_cast<unsigned char>(c));
  });
  if (digits_and_dots && std::count(core.begin(), core.end(), '.') == 3) {
    return "{ip}" + std::string(tail);
  }
  return std::string(word);
}

// Masks what differs from host to host in the same refusal: addresses in
// <...> (they carry our token), [literals], host names and IPv4 addresses.
std::string mask_reply(const std::string& line) {
  std::string out;
  out.reserve(std::min(line.size(), kMaxReason + 8));
  for (std::size_t i = 0; i < line.size() && out.size() < kMaxReason; ++i) {
    char c = line[i];
    if (c == '<' || c == '[') {
      char close = c == '<' ? '>' : ']';
      auto end = line.find(close, i + 1);
      if (end != std::string::npos) {
        out += c;
        out += "...";
        out += close;
        i = end;
        continue;
      }
    }
    if (is_name_char(c) && (i == 0 || !is_name_char(line[i - 1]))) {
      auto end = i;
      while (end < line.size() && is_name_char(line[end])) ++end;
      out += mask_word(std::string_view(line).substr(i, end - i));
      i = end - 1;
      continue;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;  // collapse runs
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  // Never end inside a UTF-8 sequence.
  if (out.size() >= kMaxReason) {
    if (out.size() > kMaxReason) out.resize(kMaxReason);
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xc0) out.pop_back();
    out += "...";
  }
  return out;
}

}  // namespace

const std::vector<std::string>& outcome_order() {
  static const std::vector<std::string> order = {"CONNECT", "EHLO", "MAIL", "TO",
                                                 "DATA",    "QUIT", "OK"};
  return order;
}

const std::vector<FunnelFigure>& funnel_figures() {
  static const std::vector<FunnelFigure> figures = {
      {"Names", "names", false, [](const RunReport& r) { return r.funnel.names; }},
      {"Lines without an address", "lines_without_address", true,
       [](const RunReport& r) { return r.funnel.lines_without_address; }},
      // The store's column keeps its first name; the figure is the IMC's.
      {"Unique mail hosts", "unique_hosts", false,
       [](const RunReport& r) { return r.funnel.unique_domains; }},
      {"Resolved hosts", "resolved_hosts", false,
       [](const RunReport& r) { return r.funnel.resolved_hosts; }},
      {"Excluded", "excluded", true, [](const RunReport& r) { return r.excluded; }},
      {"Sampled", "sampled", false, [](const RunReport& r) { return r.funnel.sampled; }},
      {"Probed", "probed", false, [](const RunReport& r) { return r.probed; }},
  };
  return figures;
}

std::vector<FunnelFigure> shown_funnel(const ReportData& data) {
  std::vector<FunnelFigure> out;
  for (const auto& f : funnel_figures()) {
    bool any = !f.optional;
    for (const auto& r : data.runs) any = any || f.get(r) != 0;
    if (any) out.push_back(f);
  }
  return out;
}

std::vector<std::pair<ReasonKey, std::int64_t>> ordered_reasons(const RunReport& run) {
  std::vector<std::pair<ReasonKey, std::int64_t>> v(run.reasons.begin(), run.reasons.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    if (a.first.outcome != b.first.outcome) return outcome_less(a.first.outcome, b.first.outcome);
    return a.first.reason < b.first.reason;
  });
  return v;
}

std::vector<std::pair<std::string, std::int64_t>> in_outcome_order(
    const std::map<std::string, std::int64_t>& outcomes) {
  std::vector<std::pair<std::string, std::int64_t>> v(outcomes.begin(), outcomes.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return outcome_less(a.first, b.first); });
  return v;
}

std::vector<std::pair<std::string, std::int64_t>> ordered_outcomes(const RunReport& run,
                                                                   const ReportData& data) {
  std::vector<std::pair<std::string, std::int64_t>> v;
  for (const auto& o : outcome_rows(data)) {
    auto it = run.outcomes.find(o);
    v.emplace_back(o, it == run.outcomes.end() ? 0 : it->second);
  }
  return v;
}

std::string plural_count(std::int64_t n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

std::string reason_of(const store::HostRow& row) {
  if (!row.reply.empty()) return mask_reply(row.reply);
  if (row.code > 0) {
    return mask_reply(std::to_string(row.code) + (row.reason.empty() ? "" : " " + row.reason));
  }
  if (!row.reason.empty()) return mask_reply(row.reason);
  return "(no reason recorded)";
}

std::string verdict_of(const store::HostRow& row) {
  if (row.outcome == "OK" || row.outcome == "QUIT" || !row.relaying_variants.empty() ||
      row.delivered) {
    return "relayed";
  }
  if (row.code >= 500 && row.code < 600) return "refused";
  // No SMTP server there at all: the host cannot relay.
  if (row.outcome == "CONNECT" && row.code == 0 && row.reason == "refused") return "refused";
  return "inconclusive";
}

const std::vector<std::string>& verdict_order() {
  static const std::vector<std::string> order = {"relayed", "refused", "inconclusive"};
  return order;
}

std::vector<std::string> greylisted_rows(const ReportData& data) {
  std::vector<std::string> out;
  for (const auto& r : data.runs) {
    for (const auto& [o, n] : r.greylisted) {
      if (std::find(out.begin(), out.end(), o) == out.end()) out.push_back(o);
    }
  }
  std::sort(out.begin(), out.end(), outcome_less);
  return out;
}

bool has_verdicts(const ReportData& data) {
  return std::any_of(data.runs.begin(), data.runs.end(),
                     [](const RunReport& r) { return !r.verdicts.empty(); });
}

std::int64_t count_of(const std::map<std::string, std::int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

void add_host(RunReport& run, const store::HostRow& row, bool with_arrivals) {
  std::string outcome = row.outcome.empty() ? "UNKNOWN" : row.outcome;
  ++run.probed;
  ++run.outcomes[outcome];
  if (row.code >= 400 && row.code < 500) ++run.transient[outcome];
  if (row.code >= 500 && row.code < 600) ++run.permanent[outcome];
  // An OK host has nothing to explain; every other outcome has its reason.
  if (outcome != "OK") ++run.reasons[ReasonKey{outcome, reason_of(row)}];
  if (with_arrivals) {
    run.delivered = run.delivered.value_or(0) + (row.delivered ? 1 : 0);
    run.bounced = run.bounced.value_or(0) + (row.bounced ? 1 : 0);
  }
  for (const auto& v : row.relaying_variants) ++run.variants[v].relayed;
  if (!row.relaying_variants.empty()) ++run.relayed_any;
  if (row.greylisted) ++run.greylisted[outcome];
  ++run.verdicts[verdict_of(row)];
}

void add_variants(RunReport& run, const std::vector<store::VariantResult>& variants) {
  std::set<std::string> seen;  // a host counts once per variant
  for (const auto& v : variants) {
    // Recorded but never sent (the server kept closing: survey/variants.hpp).
    if (v.outcome == store::variant_not_tried) continue;
    if (seen.insert(v.name).second) ++run.variants[v.name].tested;
  }
}

std::int64_t percent_tenths(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return 0;
  return (part * 1000 + whole / 2) / whole;
}

std::string format_tenths(std::int64_t tenths) {
  std::string sign = tenths < 0 ? "-" : "";
  if (tenths < 0) tenths = -tenths;
  return sign + std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

std::int64_t percent_base(const RunReport& run) {
  return run.funnel.sampled > 0 ? run.funnel.sampled : run.probed;
}

std::vector<std::string> outcome_rows(const ReportData& data) {
  std::set<std::string> present;
  for (const auto& r : data.runs) {
    for (const auto& [outcome, n] : r.outcomes) {
      if (n != 0) present.insert(outcome);
    }
  }
  std::vector<std::string> rows(present.begin(), present.end());
  std::sort(rows.begin(), rows.end(), outcome_less);
  return rows;
}

std::vector<std::string> variant_rows(const ReportData& data) {
  std::map<std::string, std::int64_t> relayed;
  for (const auto& r : data.runs) {
    for (const auto& [name, c] : r.variants) relayed[name] += c.relayed;
  }
  std::vector<std::string> rows;
  for (const auto& [name, n] : relayed) rows.push_back(name);
  std::stable_sort(rows.begin(), rows.end(), [&](const std::string& a, const std::string& b) {
    return relayed[a] > relayed[b];
  });
  return rows;
}

ReasonTable reason_table(const ReportData& data, std::size_t per_outcome) {
  // Totals over all runs decide the order and what is folded.
  std::map<std::string, std::map<std::string, std::int64_t>> totals;  // outcome -> reason -> n
  for (const auto& r : data.runs) {
    for (const auto& [key, n] : r.reasons) totals[key.outcome][key.reason] += n;
  }
  std::vector<std::string> outcomes;
  for (const auto& [o, m] : totals) outcomes.push_back(o);
  std::sort(outcomes.begin(), outcomes.end(), outcome_less);

  ReasonTable t;
  for (const auto& outcome : outcomes) {
    std::vector<std::pair<std::string, std::int64_t>> reasons(totals[outcome].begin(),
                                                              totals[outcome].end());
    std::stable_sort(reasons.begin(), reasons.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    bool fold = reasons.size() > per_outcome;
    std::size_t shown = fold ? per_outcome - std::min<std::size_t>(per_outcome, 1) : reasons.size();
    for (std::size_t i = 0; i < shown; ++i) {
      ReasonKey key{outcome, reasons[i].first};
      std::vector<std::int64_t> counts;
      for (const auto& r : data.runs) {
        auto it = r.reasons.find(key);
        counts.push_back(it == r.reasons.end() ? 0 : it->second);
      }
      t.rows.push_back(std::move(key));
      t.counts.push_back(std::move(counts));
    }
    if (fold) {
      std::vector<std::int64_t> counts;
      for (const auto& r : data.runs) {
        std::int64_t rest = 0;
        for (const auto& [key, n] : r.reasons) {
          if (key.outcome != outcome) continue;
          bool listed = std::any_of(reasons.begin(), reasons.begin() + static_cast<long>(shown),
                                    [&](const auto& p) { return p.first == key.reason; });
          if (!listed) rest += n;
        }
        counts.push_back(rest);
      }
      t.rows.push_back(ReasonKey{outcome, kOtherReasons});
      t.counts.push_back(std::move(counts));
    }
  }
  return t;
}

std::string reply_class(const std::string& reason) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (reason.size() >= 3 && (reason[0] == '4' || reason[0] == '5') && digit(reason[1]) &&
      digit(reason[2]) && (reason.size() == 3 || reason[3] == ' ' || reason[3] == '-')) {
    return std::string(1, reason[0]) + "xx";
  }
  return "";
}

}  // namespace relayscope::report
