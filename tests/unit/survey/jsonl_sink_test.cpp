// survey --jsonl: one line per probe with report --hosts json's fields, and
// the survey's metrics series (survey_metrics.hpp).
#include "survey/jsonl_sink.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "report/render.hpp"
#include "survey/survey_metrics.hpp"

namespace relayscope::survey {
namespace {

store::Probe sample_probe() {
  store::Probe p;
  p.host_id = 7;
  p.ip = "127.0.0.9";
  p.domain = "relay.test";
  p.outcome = "TO";
  p.code = 554;
  p.reason = "5xx";
  p.token = "abc123";
  p.transcript = {{0, '*', "connect 127.0.0.9:25"},
                  {10, '<', "220 relay.test ESMTP"},
                  {20, '>', "RCPT TO:<x@y>"},
                  {30, '<', "554-5.7.1 first line"},
                  {31, '<', "554 5.7.1 Relay access denied"}};
  store::VariantResult v;
  v.name = "percent-hack";
  v.outcome = "OK";
  p.variants.push_back(v);
  return p;
}

TEST(JsonlSink, ALineIsTheReportsHostObjectWithoutArrivals) {
  auto p = sample_probe();
  auto line = jsonl_line(p, 3);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["run_id"], 3);
  EXPECT_EQ(j["domain"], "relay.test");
  EXPECT_EQ(j["ip"], "127.0.0.9");
  EXPECT_EQ(j["outcome"], "TO");
  EXPECT_EQ(j["code"], 554);
  EXPECT_EQ(j["reason"], "5xx");
  EXPECT_EQ(j["token"], "abc123");
  // The store's reply: the last received line that begins with the code.
  EXPECT_EQ(j["reply"], "554 5.7.1 Relay access denied");
  EXPECT_EQ(j["relaying_variants"], nlohmann::json::array({"percent-hack"}));
  EXPECT_TRUE(j["delivered"].is_null());
  EXPECT_TRUE(j["bounced"].is_null());
  EXPECT_EQ(j["transcript"].size(), 5u);
  // Every other key is the report's, with the report's value.
  store::HostRow row = host_row_of(p, 3);
  auto report = nlohmann::json::parse(report::render_hosts({row}, report::Format::json));
  auto r = report["hosts"][0];
  for (auto it = r.begin(); it != r.end(); ++it) {
    ASSERT_TRUE(j.contains(it.key())) << it.key();
    if (it.key() != "delivered" && it.key() != "bounced") {
      EXPECT_EQ(j[it.key()], it.value());
    }
  }
  EXPECT_EQ(j.size(), r.size());
}

TEST(JsonlSink, NoCodeMeansNullCodeAndNoReply) {
  store::Probe p;
  p.ip = "127.0.0.1";
  p.outcome = "CONNECT";
  p.reason = "refused";
  auto j = nlohmann::json::parse(jsonl_line(p, 1));
  EXPECT_TRUE(j["code"].is_null());
  EXPECT_EQ(j["reply"], "");
}

TEST(JsonlSink, WritesEachStoredBatchAsLines) {
  auto path = std::filesystem::temp_directory_path() /
              ("relayscope-jsonl-test-" + std::to_string(::getpid()) + ".jsonl");
  auto sink = JsonlSink::open(path.string());
  ASSERT_TRUE(sink);
  auto a = sample_probe();
  auto b = sample_probe();
  b.ip = "127.0.0.10";
  (*sink)->stored(4, {a, b});
  (*sink)->stored(4, {});
  // Flushed at once: a reader following the file sees the batch now.
  {
    std::ifstream in(path);
    std::string l1, l2;
    ASSERT_TRUE(std::getline(in, l1));
    ASSERT_TRUE(std::getline(in, l2));
    EXPECT_EQ(nlohmann::json::parse(l2)["ip"], "127.0.0.10");
  }
  EXPECT_EQ((*sink)->lines(), 2);
  EXPECT_TRUE((*sink)->close());
  std::filesystem::remove(path);
}

TEST(JsonlSink, AnUnwritablePathIsAClearError) {
  auto sink = JsonlSink::open("/nonexistent-dir-relayscope/x.jsonl");
  ASSERT_FALSE(sink);
  EXPECT_NE(sink.error().message.find("--jsonl"), std::string::npos);
}

TEST(RateWindow, CountsTheLastTenSecondsOnly) {
  RateWindow w(std::chrono::seconds(10));
  auto t0 = std::chrono::steady_clock::time_point(std::chrono::seconds(1000));
  EXPECT_EQ(w.per_second(t0), 0);
  for (int i = 0; i < 20; ++i) w.add(1, t0 + std::chrono::seconds(i / 2));
  // 20 events over the first 10 s: 2 per second.
  EXPECT_DOUBLE_EQ(w.per_second(t0 + std::chrono::seconds(10)), 2.0);
  // Later, only the last window counts: none in the last ten seconds.
  EXPECT_EQ(w.per_second(t0 + std::chrono::seconds(30)), 0);
}

TEST(SurveyMetrics, SeriesFollowTheProbes) {
  metrics::Registry r;
  SurveyMetrics m(r);
  m.started();
  m.started();
  m.started();
  auto p = sample_probe();
  m.ended(&p);
  m.ended(nullptr);  // a local failure: no outcome
  m.stored(1, {p});
  auto text = r.expose();
  EXPECT_NE(text.find("relayscope_survey_probes_started_total 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("relayscope_survey_probes_in_flight 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("relayscope_survey_probes_finished_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("relayscope_survey_local_failures_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("relayscope_survey_outcomes_total{outcome=\"TO\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("relayscope_survey_outcomes_total{outcome=\"OK\"} 0\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("relayscope_survey_store_writes_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("relayscope_survey_probes_per_second 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace relayscope::survey
