// The figures a report shows, independent of where they came from (a Store,
// or the IMC's printed figures in tests) and of how they are rendered. Pure:
// host rows in, counts out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace relayscope::report {

// The outcome rows in the IMC's order; any other outcome sorts after them.
const std::vector<std::string>& outcome_order();

// One line of the reasons table: what ended the dialogue at `outcome`.
struct ReasonKey {
  std::string outcome;
  std::string reason;  // "554 5.7.1 <...>: Relay access denied", "refused", ...
  auto operator<=>(const ReasonKey&) const = default;
};

struct VariantCount {
  std::int64_t tested = 0;   // hosts on which the variant was tried
  std::int64_t relayed = 0;  // hosts that took it through DATA
};

struct RunReport {
  std::int64_t id = 0;
  std::string label;
  std::string started_at;
  std::string finished_at;
  std::string status;
  store::Funnel funnel;
  // Targets dropped before the sample because the run may not reach them
  // (--exclude, outside --scope, an address family not surveyed): read from
  // the store's funnel when it records them (build.cpp), else 0. Shown on
  // the "Excluded" line (DESIGN.md) when any run has one.
  std::int64_t excluded = 0;
  std::int64_t probed = 0;
  std::map<std::string, std::int64_t> outcomes;   // hosts per outcome
  std::map<std::string, std::int64_t> transient;  // of which a 4xx ended it
  std::map<std::string, std::int64_t> permanent;  // of which a 5xx ended it
  std::map<ReasonKey, std::int64_t> reasons;
  // Set when the collector's arrivals are known (the IMC's delivered/bounced).
  std::optional<std::int64_t> delivered;
  std::optional<std::int64_t> bounced;
  std::map<std::string, VariantCount> variants;  // empty unless --variants all ran
  std::int64_t relayed_any = 0;                  // hosts relaying by any test (with variants)
  // Hosts greylisted (4xx at RCPT TO, retried: --greylist-retry) by the
  // retry's outcome: "greylisted, then TO", "greylisted, then OK".
  std::map<std::string, std::int64_t> greylisted;
  // Hosts per verdict (verdict_of): relayed, refused, inconclusive.
  std::map<std::string, std::int64_t> verdicts;
};

struct ReportData {
  std::vector<RunReport> runs;  // in the order asked for (oldest first by default)
  std::int64_t unmatched_arrivals = 0;
};

// What a host's probe says about relaying, apart from the IMC's steps:
// "relayed" (the test message, or any variant, was taken: OK, or QUIT after
// DATA was accepted), "refused" (a permanent refusal, 5xx, or a refused
// connection), "inconclusive" (nothing that judges it: only 4xx answers, a
// timeout such as a tarpit or a silent host, a reset, garbage).
std::string verdict_of(const store::HostRow& row);
// The verdicts in the order reports list them.
const std::vector<std::string>& verdict_order();

// Counts one probed host into its run. with_arrivals: whether the collector's
// figures are known, so delivered/bounced are counted (else left unset).
void add_host(RunReport& run, const store::HostRow& row, bool with_arrivals);
// Counts the variants tried on one host (from its probe).
void add_variants(RunReport& run, const std::vector<store::VariantResult>& variants);

// The reason a host's dialogue ended, in a form that groups across hosts:
// the reply line with addresses and literals masked, or the probe's own
// reason (refused, timeout...) where no reply came. Bounded in length.
std::string reason_of(const store::HostRow& row);

// Percent of `part` in `whole` in tenths, rounded half up by integer
// arithmetic (no binary-float surprises: 3 of 500 is exactly 6 tenths).
std::int64_t percent_tenths(std::int64_t part, std::int64_t whole);
std::string format_tenths(std::int64_t tenths);  // 6 -> "0.6", 232 -> "23.2"

// The denominator of percentages: the sampled hosts (the IMC's base), or
// the probed ones where no sample size was recorded.
std::int64_t percent_base(const RunReport& run);

// One figure of the funnel, named once for every format: `label` in text,
// markdown, HTML and the survey's summary (the IMC's own words), `key` in
// JSON and CSV. Human formats leave out an `optional` figure that is zero in
// every run; JSON and CSV always carry every key (0 where none).
struct FunnelFigure {
  const char* label;
  const char* key;
  bool optional;
  std::int64_t (*get)(const RunReport&);
};
// In the order targets drop out: names, junk, unique mail hosts, resolved,
// excluded, sampled, probed.
const std::vector<FunnelFigure>& funnel_figures();
// The figures a human format shows for these runs (optional ones only when
// non-zero somewhere).
std::vector<FunnelFigure> shown_funnel(const ReportData& data);

// The rows of the outcome table: outcomes with a non-zero count in any run,
// in outcome_order() then alphabetically.
std::vector<std::string> outcome_rows(const ReportData& data);

// The variant names tried in any run, by how many hosts they relayed (most
// first), then by name.
std::vector<std::string> variant_rows(const ReportData& data);

// The reasons table: rows grouped by outcome (in outcome order), the most
// frequent first (over all runs); beyond `per_outcome` rows an outcome's
// remaining reasons fold into one "(other reasons)" row.
struct ReasonTable {
  std::vector<ReasonKey> rows;
  std::vector<std::vector<std::int64_t>> counts;  // counts[row][run]
};
ReasonTable reason_table(const ReportData& data, std::size_t per_outcome = 8);

// The reasons of one run in the IMC's outcome order (then by reason).
std::vector<std::pair<ReasonKey, std::int64_t>> ordered_reasons(const RunReport& run);

// Any outcome -> count map (the survey's summary) in the IMC's order, then
// alphabetically.
std::vector<std::pair<std::string, std::int64_t>> in_outcome_order(
    const std::map<std::string, std::int64_t>& outcomes);

// The outcomes of one run in the IMC's order, zero ones included where
// another run of the report has them (so every format lists the same rows).
std::vector<std::pair<std::string, std::int64_t>> ordered_outcomes(const RunReport& run,
                                                                   const ReportData& data);

// "1 junk line", "2 junk lines": the noun agrees with the number.
std::string plural_count(std::int64_t n, const std::string& singular, const std::string& plural);

// "4xx", "5xx" for a reason that starts with a reply code, else "".
std::string reply_class(const std::string& reason);

// The retry outcomes of greylisted hosts in any run, in outcome order (the
// rows "greylisted, then TO"...); empty when no host was greylisted.
std::vector<std::string> greylisted_rows(const ReportData& data);
// Whether any run has verdicts (its figures come from hosts, not from a
// printed table alone).
bool has_verdicts(const ReportData& data);
std::int64_t count_of(const std::map<std::string, std::int64_t>& m, const std::string& key);

inline constexpr const char* kOtherReasons = "(other reasons)";

}  // namespace relayscope::report
