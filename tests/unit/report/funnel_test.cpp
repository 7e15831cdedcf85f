// The funnel's figures, named once for every format, and the IMC's order of
// outcomes kept wherever a format could reorder them (JSON objects, CSV).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/render.hpp"

namespace relayscope::report {
namespace {

ReportData run(std::int64_t excluded, std::int64_t junk) {
  ReportData d;
  RunReport r;
  r.id = 4;
  r.funnel = {20, junk, 12, 10, 5};
  r.excluded = excluded;
  r.probed = 5;
  // Inserted alphabetically by std::map: OK before TO.
  r.outcomes = {{"TO", 2}, {"OK", 2}, {"CONNECT", 1}};
  r.reasons[{"TO", "554 no"}] = 2;
  r.reasons[{"CONNECT", "refused"}] = 1;
  d.runs.push_back(r);
  return d;
}

TEST(Funnel, ExcludedHasItsOwnLineWhenAnyRunHasSome) {
  auto text = render_text(run(3, 0));
  EXPECT_NE(text.find("Resolved hosts     10\nExcluded           3\nSampled            5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(render_markdown(run(3, 0)).find("| Excluded | 3 |"), std::string::npos);
  EXPECT_NE(render_html(run(3, 0)).find("Excluded</th><td class=\"n\">3<"), std::string::npos);
  // None excluded: the human formats leave the line out, the machine ones say 0.
  EXPECT_EQ(render_text(run(0, 0)).find("Excluded"), std::string::npos);
  EXPECT_EQ(render_html(run(0, 0)).find("Excluded"), std::string::npos);
  auto j = nlohmann::json::parse(render_json(run(0, 0)));
  EXPECT_EQ(j["runs"][0]["funnel"]["excluded"], 0);
  EXPECT_NE(render_csv(run(0, 0)).find("\n4,,funnel,excluded,,0,\n"), std::string::npos);
}

TEST(Funnel, OneNamePerFigureInEveryFormat) {
  auto d = run(0, 1);
  EXPECT_NE(render_text(run(0, 0)).find("Unique mail hosts  12\n"), std::string::npos);
  EXPECT_NE(render_markdown(d).find("| Unique mail hosts | 12 |"), std::string::npos);
  EXPECT_NE(render_html(d).find("Unique mail hosts</th>"), std::string::npos);
  EXPECT_NE(render_html(d).find("Lines without an address</th><td class=\"n\">1<"),
            std::string::npos);
  EXPECT_NE(render_text(run(0, 0)).find("Probed             5\n"), std::string::npos);
  EXPECT_NE(render_text(d).find("Lines without an address  1\n"), std::string::npos);
  auto j = nlohmann::json::parse(render_json(d));
  EXPECT_EQ(j["runs"][0]["funnel"]["unique_hosts"], 12);
  EXPECT_FALSE(j["runs"][0]["funnel"].contains("unique_domains"));
  EXPECT_NE(render_csv(d).find("\n4,,funnel,unique_hosts,,12,\n"), std::string::npos);
}

TEST(Funnel, OutcomesKeepTheImcOrderInJsonAndCsv) {
  auto d = run(0, 0);
  auto ordered = nlohmann::ordered_json::parse(render_json(d));
  std::vector<std::string> keys;
  for (const auto& [k, v] : ordered["runs"][0]["outcomes"].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"CONNECT", "TO", "OK"}));
  EXPECT_EQ(ordered["runs"][0]["reasons"][0]["outcome"], "CONNECT");
  auto csv = render_csv(d);
  EXPECT_LT(csv.find(",outcome,CONNECT,"), csv.find(",outcome,TO,"));
  EXPECT_LT(csv.find(",outcome,TO,"), csv.find(",outcome,OK,"));
  EXPECT_LT(csv.find(",reason,CONNECT,"), csv.find(",reason,TO,"));
}

TEST(Funnel, InOutcomeOrderSortsASummary) {
  std::map<std::string, std::int64_t> m = {{"OK", 1}, {"TO", 2}, {"CONNECT", 3}, {"ZZZ", 4}};
  auto v = in_outcome_order(m);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].first, "CONNECT");
  EXPECT_EQ(v[1].first, "TO");
  EXPECT_EQ(v[2].first, "OK");
  EXPECT_EQ(v[3].first, "ZZZ");
}

TEST(Funnel, PluralsAgreeWithTheNumber) {
  EXPECT_EQ(plural_count(1, "junk line", "junk lines"), "1 junk line");
  EXPECT_EQ(plural_count(0, "junk line", "junk lines"), "0 junk lines");
  EXPECT_EQ(plural_count(2, "message", "messages"), "2 messages");
}

}  // namespace
}  // namespace relayscope::report
