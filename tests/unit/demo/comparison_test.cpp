#include "demo/comparison.hpp"

#include <gtest/gtest.h>

namespace relayscope::demo {
namespace {

TEST(ImcFigures, TheEmbeddedFiguresAreTheReportsThreeRuns) {
  auto runs = imc_runs();
  ASSERT_TRUE(runs) << runs.error().message;
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[2].label, "July 1999");
  EXPECT_EQ((*runs)[2].outcomes.at("TO"), 355);
  EXPECT_EQ((*runs)[0].delivered, 259);
  EXPECT_EQ((*runs)[1].quit_errors, 1);
}

TEST(Comparison, PutsOurFiguresBesideTheImcsRowByRow) {
  auto imc = imc_run("July 1999");
  ASSERT_TRUE(imc);
  RunFigures ours;
  ours.funnel = {9238, 0, 3896, 3844, 500};
  ours.outcomes = {{"CONNECT", 24}, {"TO", 356}, {"DATA", 3}, {"OK", 117}};
  auto t = comparison_table(ours, *imc);
  EXPECT_NE(t.find("Names                   9238            9238\n"), std::string::npos) << t;
  EXPECT_NE(t.find("CONNECT      24         4.8         25         5.0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("TO           356        71.2        355        71.0\n"), std::string::npos)
      << t;
  EXPECT_NE(t.find("OK           117        23.4        116        23.2\n"), std::string::npos)
      << t;
  EXPECT_EQ(t.find("EHLO"), std::string::npos);       // zero in both
  EXPECT_EQ(t.find("Delivered"), std::string::npos);  // no collector ran
}

TEST(Comparison, ShowsDeliveredAndBouncedWhenTheCollectorRan) {
  auto imc = imc_run("July 1999");
  RunFigures ours;
  ours.funnel.sampled = 500;
  ours.outcomes = {{"OK", 116}};
  ours.delivered = 90;
  ours.bounced = 18;
  auto t = comparison_table(ours, *imc);
  EXPECT_NE(t.find("Delivered    90                     88"), std::string::npos) << t;
  EXPECT_NE(t.find("Bounced      18                     19"), std::string::npos) << t;
}

}  // namespace
}  // namespace relayscope::demo
