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
  EXPECT_NE(t.find("Unique mail hosts       3896            3896\n"), std::string::npos) << t;
  // Ours, our percent, the IMC's, its percent, our 95% interval, the verdict.
  EXPECT_NE(t.find("CONNECT      24         4.8         25         5.0      3.2-7.0        "
                   "within sampling noise\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("TO           356        71.2        355        71.0     "), std::string::npos)
      << t;
  EXPECT_NE(t.find("OK           117        23.4        116        23.2     "), std::string::npos)
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
  EXPECT_NE(t.find("Delivered + bounced (90 + 18) is less than OK (116)"), std::string::npos) << t;
  EXPECT_NE(t.find("(the IMC: 88 + 19 of 116)"), std::string::npos) << t;
}

TEST(Comparison, ExplainsEachResponseShownInOneLine) {
  auto imc = imc_run("July 1999");
  RunFigures ours;
  ours.funnel.sampled = 500;
  ours.outcomes = {{"CONNECT", 24}, {"TO", 356}, {"DATA", 3}, {"OK", 117}};
  auto t = comparison_table(ours, *imc);
  for (const char* o : {"CONNECT", "TO", "DATA", "OK"}) {
    auto line = "\n  " + std::string(o);
    auto at = t.find(line + std::string(9 - std::string(o).size(), ' ') + outcome_meaning(o));
    EXPECT_NE(at, std::string::npos) << o << "\n" << t;
    EXPECT_FALSE(outcome_meaning(o).empty());
  }
  for (const char* o : {"EHLO", "MAIL", "QUIT"}) EXPECT_FALSE(outcome_meaning(o).empty());
}

TEST(Comparison, SaysWhetherTheImcFigureIsWithinSamplingNoise) {
  // 28 of 500 is 3.9% to 8.0%: the IMC's 25 of 500 (5.0%) lies inside it,
  // 45 of 500 (9.0%) does not.
  EXPECT_EQ(noise_verdict(28, 500, 25, 500), "within sampling noise");
  EXPECT_EQ(noise_verdict(28, 500, 45, 500), "outside: a real difference");
  auto imc = imc_run("July 1999");
  RunFigures ours;
  ours.funnel.sampled = 500;
  ours.outcomes = {{"CONNECT", 60}, {"TO", 320}, {"OK", 120}};  // CONNECT 12%: not the IMC's 5%
  auto t = comparison_table(ours, *imc);
  EXPECT_NE(t.find("CONNECT      60         12.0        25         5.0      9.4-15.1       "
                   "outside: a real difference\n"),
            std::string::npos)
      << t;
}

}  // namespace
}  // namespace relayscope::demo
