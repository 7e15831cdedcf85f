// The registry's text against Prometheus' exposition format (0.0.4): HELP
// and TYPE per family, escaped label values, integer and float values, one
// series per label set, and updates from many threads all counted.
#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "metrics/registry.hpp"

namespace relayscope::metrics {
namespace {

TEST(Exposition, FamiliesWithHelpTypeAndLabelledSeries) {
  Registry r;
  auto& accepted =
      r.counter("relayscope_messages_total", "Messages by result", {{"result", "accepted"}});
  auto& refused = r.counter("relayscope_messages_total", "Messages by result",
                            {{"result", "refused"}, {"reason", "relay"}});
  r.gauge("relayscope_queue_size", "Messages in the queue").set(3);
  accepted.inc();
  accepted.inc(2);
  refused.inc();
  EXPECT_EQ(&accepted, &r.counter("relayscope_messages_total", "Messages by result",
                                  {{"result", "accepted"}}));
  EXPECT_EQ(r.expose(),
            "# HELP relayscope_messages_total Messages by result\n"
            "# TYPE relayscope_messages_total counter\n"
            "relayscope_messages_total{reason=\"relay\",result=\"refused\"} 1\n"
            "relayscope_messages_total{result=\"accepted\"} 3\n"
            "# HELP relayscope_queue_size Messages in the queue\n"
            "# TYPE relayscope_queue_size gauge\n"
            "relayscope_queue_size 3\n");
}

TEST(Exposition, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_help("line\\one\ntwo \"q\""), "line\\\\one\\ntwo \"q\"");
  EXPECT_EQ(series_name("relayscope_x", {{"reason", "554 \"no\""}}),
            "relayscope_x{reason=\"554 \\\"no\\\"\"}");
}

TEST(Exposition, Values) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(1234567), "1234567");
  EXPECT_EQ(format_value(-2), "-2");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
}

TEST(Exposition, NamesAreChecked) {
  EXPECT_TRUE(valid_metric_name("relayscope_probes_total"));
  EXPECT_TRUE(valid_metric_name("a:b_c9"));
  EXPECT_FALSE(valid_metric_name("9abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("result"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
  Registry r;
  EXPECT_THROW(r.counter("probes_total", "not ours"), std::invalid_argument);
  EXPECT_THROW(r.counter("relayscope_bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("relayscope_x", "x", {{"bad-label", "v"}}), std::invalid_argument);
  r.counter("relayscope_y", "y");
  EXPECT_THROW(r.gauge("relayscope_y", "y"), std::invalid_argument);
}

TEST(Exposition, FunctionsAreReadAtScrapeTime) {
  Registry r;
  double sessions = 1;
  r.gauge_fn("relayscope_sessions", "Open sessions", {}, [&] { return sessions; });
  r.counter_fn("relayscope_arrivals_total", "Arrivals", {{"kind", "bounce"}}, [] { return 7.0; });
  sessions = 4;
  auto text = r.expose();
  EXPECT_NE(text.find("\nrelayscope_sessions 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nrelayscope_arrivals_total{kind=\"bounce\"} 7\n"), std::string::npos);
}

TEST(Exposition, UpdatesFromManyThreadsAreAllCounted) {
  Registry r;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r, t] {
      // Each thread looks its series up (the registry's lock) and counts.
      auto& c = r.counter("relayscope_hits_total", "Hits", {{"thread", std::to_string(t % 2)}});
      auto& g = r.gauge("relayscope_level", "Level");
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        g.add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto text = r.expose();
  EXPECT_NE(text.find("relayscope_hits_total{thread=\"0\"} 20000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("relayscope_hits_total{thread=\"1\"} 20000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("relayscope_level 40000\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace relayscope::metrics
