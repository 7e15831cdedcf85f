// Wilson intervals against known values, and the report's --ci columns.
#include "report/wilson.hpp"

#include <gtest/gtest.h>

#include "report/render.hpp"

namespace relayscope::report {
namespace {

TEST(Wilson, FiveOfTenIsTheTextbookInterval) {
  // Brown, Cai and DasGupta (2001), and any table of Wilson intervals:
  // 5 of 10 at 95% is 0.2366 to 0.7634.
  auto i = wilson(5, 10);
  EXPECT_NEAR(i.low, 0.2366, 5e-5);
  EXPECT_NEAR(i.high, 0.7634, 5e-5);
}

TEST(Wilson, NoSuccessesStillGivesAnUpperBound) {
  auto i = wilson(0, 10);
  EXPECT_EQ(i.low, 0.0);
  EXPECT_NEAR(i.high, kZ95 * kZ95 / (10 + kZ95 * kZ95), 1e-12);  // 0.2775
  auto all = wilson(10, 10);
  EXPECT_EQ(all.high, 1.0);
  EXPECT_NEAR(all.low, 1.0 - i.high, 1e-12);
}

TEST(Wilson, TheImcsCONNECTShareOfJuly1999) {
  // 28 of 500 (5.6%): 3.9% to 8.0%; the IMC's 25 of 500 (5.0%) is inside.
  auto i = wilson(28, 500);
  EXPECT_EQ(format_interval(i), "3.9-8.0");
  EXPECT_TRUE(within(i, 25.0 / 500));
  EXPECT_FALSE(within(i, 45.0 / 500));
}

TEST(Wilson, NoTrialsIsTheWholeRange) {
  auto i = wilson(0, 0);
  EXPECT_EQ(i.low, 0.0);
  EXPECT_EQ(i.high, 1.0);
}

ReportData one_run() {
  ReportData d;
  RunReport r;
  r.id = 1;
  r.funnel.sampled = 3;
  r.probed = 3;
  r.outcomes = {{"OK", 1}, {"TO", 1}, {"CONNECT", 1}};
  d.runs.push_back(r);
  return d;
}

TEST(Wilson, TextReportShowsIntervalsOnlyWhenAsked) {
  auto d = one_run();
  EXPECT_EQ(render_text(d).find("95%"), std::string::npos);
  RenderOptions o;
  o.ci = true;
  auto text = render_text(d, o);
  EXPECT_NE(text.find("Response     Number     Percent     95% interval\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("OK           1          33.3        6.1-79.2\n"), std::string::npos) << text;
  EXPECT_NE(render_markdown(d, o).find("| OK | 1 | 33.3 | 6.1-79.2 |"), std::string::npos);
  EXPECT_NE(render_html(d, o).find("(95%: 6.1-79.2)"), std::string::npos);
  EXPECT_NE(render_csv(d, o).find("\n1,,outcome_ci95,OK,high,1,79.2\n"), std::string::npos);
}

}  // namespace
}  // namespace relayscope::report
