// Golden tests of the text report against the IMC's own printed figures
// (data/imc-surveys.json): one run prints DESIGN.md's table exactly, three
// runs print the IMC's { a, b, c } rows, and our percentages equal theirs.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "report/render.hpp"

namespace relayscope::report {
namespace {

nlohmann::json imc() {
  std::ifstream f(std::string(RELAYSCOPE_SOURCE_DIR) + "/data/imc-surveys.json");
  std::stringstream ss;
  ss << f.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// The model as the IMC's figures describe it: every probed host counted once.
RunReport from_imc(const nlohmann::json& j, std::int64_t id) {
  RunReport r;
  r.id = id;
  r.label = j["label"];
  r.started_at = j["date"];
  r.status = "done";
  r.funnel.names = j["names"];
  r.funnel.unique_domains = j["unique_hosts"];
  r.funnel.resolved_hosts = j["resolved_hosts"];
  r.funnel.sampled = j["sampled"];
  for (const auto& [o, n] : j["outcomes"].items()) {
    r.outcomes[o] = n.get<std::int64_t>();
    r.probed += n.get<std::int64_t>();
  }
  r.delivered = j["delivered"].get<std::int64_t>();
  r.bounced = j["bounced"].get<std::int64_t>();
  return r;
}

ReportData all_three() {
  ReportData d;
  auto j = imc();
  for (std::size_t i = 0; i < j["runs"].size(); ++i) {
    d.runs.push_back(from_imc(j["runs"][i], static_cast<std::int64_t>(i + 1)));
  }
  return d;
}

TEST(ImcGolden, OneRunPrintsTheContractTable) {
  ReportData d;
  d.runs.push_back(from_imc(imc()["runs"][2], 3));  // July 1999
  d.runs[0].delivered.reset();
  d.runs[0].bounced.reset();
  EXPECT_EQ(render_text(d),
            "Run 3 \"July 1999\": started 1999-07-03, done\n"
            "\n"
            "Names              9238\n"
            "Unique mail hosts  3896\n"
            "Resolved hosts     3844\n"
            "Sampled            500\n"
            "Probed             499\n"
            "\n"
            "Response     Number     Percent\n"
            "CONNECT      25         5.0\n"
            "TO           355        71.0\n"
            "DATA         3          0.6\n"
            "OK           116        23.2\n");
}

TEST(ImcGolden, ThreeRunsPrintTheImcBraces) {
  auto text = render_text(all_three());
  EXPECT_EQ(text,
            "Run 1 \"January 1998\": started 1998-01-24, done\n"
            "Run 2 \"July 1998\": started 1998-07-20, done\n"
            "Run 3 \"July 1999\": started 1999-07-03, done\n"
            "\n"
            "Names              { 6427, 8292, 9238 }\n"
            "Unique mail hosts  { 2839, 3475, 3896 }\n"
            "Resolved hosts     { 2813, 3433, 3844 }\n"
            "Sampled            { 500, 500, 500 }\n"
            "Probed             { 500, 499, 499 }\n"
            "\n"
            "Response     Number             Percent\n"
            "CONNECT      { 28, 32, 25 }     { 5.6, 6.4, 5.0 }\n"
            "TO           { 182, 260, 355 }  { 36.4, 52.0, 71.0 }\n"
            "DATA         { 2, 4, 3 }        { 0.4, 0.8, 0.6 }\n"
            "OK           { 288, 203, 116 }  { 57.6, 40.6, 23.2 }\n"
            "\n"
            "Collector    Number\n"
            "Delivered    { 259, 182, 88 }\n"
            "Bounced      { 24, 15, 19 }\n");
  // The line DESIGN.md quotes, verbatim.
  EXPECT_NE(text.find("\nCONNECT      { 28, 32, 25 }     { 5.6, 6.4, 5.0 }\n"), std::string::npos);
}

TEST(ImcGolden, PercentagesEqualThePrintedOnes) {
  auto j = imc();
  auto d = all_three();
  for (std::size_t i = 0; i < d.runs.size(); ++i) {
    for (const auto& [o, p] : j["runs"][i]["percent"].items()) {
      auto n = d.runs[i].outcomes[o];
      EXPECT_EQ(format_tenths(percent_tenths(n, percent_base(d.runs[i]))),
                format_tenths(static_cast<std::int64_t>(p.get<double>() * 10 + 0.5)))
          << j["runs"][i]["label"] << " " << o;
    }
  }
}

TEST(ImcGolden, AQuitRowAppearsWhenAnyRunHasOne) {
  auto d = all_three();
  d.runs[1].outcomes["QUIT"] = 1;  // the July 1998 host that erred at QUIT
  d.runs[1].probed += 1;
  auto text = render_text(d);
  EXPECT_NE(text.find("\nDATA         { 2, 4, 3 }        { 0.4, 0.8, 0.6 }\n"
                      "QUIT         { 0, 1, 0 }        { 0.0, 0.2, 0.0 }\n"
                      "OK           { 288, 203, 116 }  { 57.6, 40.6, 23.2 }\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("EHLO"), std::string::npos);  // zero in every run: left out
}

TEST(Percent, RoundsHalfUpInTenths) {
  EXPECT_EQ(format_tenths(percent_tenths(3, 500)), "0.6");
  EXPECT_EQ(format_tenths(percent_tenths(1, 8)), "12.5");  // exact
  EXPECT_EQ(format_tenths(percent_tenths(1, 16)), "6.3");  // 6.25 -> 6.3 (half up)
  EXPECT_EQ(format_tenths(percent_tenths(1, 3)), "33.3");
  EXPECT_EQ(format_tenths(percent_tenths(2, 3)), "66.7");
  EXPECT_EQ(format_tenths(percent_tenths(0, 500)), "0.0");
  EXPECT_EQ(format_tenths(percent_tenths(500, 500)), "100.0");
  EXPECT_EQ(format_tenths(percent_tenths(1, 2000)), "0.1");  // 0.05 -> 0.1
  EXPECT_EQ(format_tenths(percent_tenths(1, 2001)), "0.0");
  EXPECT_EQ(format_tenths(percent_tenths(5, 0)), "0.0");  // no base: no division by zero
}

}  // namespace
}  // namespace relayscope::report
