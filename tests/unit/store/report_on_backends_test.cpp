// The report over each backend: the same runs stored in SQLite and in
// PostgreSQL give the same text report (a golden, the IMC's table) and the
// same host rows in every format, hostile reply text included.
#include "report/build.hpp"
#include "report/render.hpp"
#include "store_test_support.hpp"

namespace relayscope::store {
namespace {

class ReportOnBackend : public StoreConformance {
 protected:
  // Two runs: five hosts of which one relays and one bounces, then a run with
  // relay tricks and a reply holding quotes, escapes and markup.
  void fill(Store& db) {
    auto run1 = sample_run();
    run1.label = "first";
    run1.status = "done";
    run1.funnel = {100, 2, 40, 38, 5};
    auto a = db.create_run(run1);
    ASSERT_TRUE(a);
    auto hosts = make_hosts(5);
    ASSERT_OK(db.add_hosts(*a, hosts));
    std::vector<Probe> ps;
    ps.push_back(sample_probe(hosts[0].id, hosts[0].ip, "TO", 554, "c0"));
    ps.push_back(sample_probe(hosts[1].id, hosts[1].ip, "TO", 554, "c1"));
    ps.push_back(sample_probe(hosts[2].id, hosts[2].ip, "OK", 250, "open"));
    ps.push_back(sample_probe(hosts[3].id, hosts[3].ip, "OK", 250, "bouncer"));
    auto down = sample_probe(hosts[4].id, hosts[4].ip, "CONNECT", 0, "");
    down.reason = "refused";
    ps.push_back(down);
    ASSERT_OK(db.add_probes(*a, ps));
    auto run2 = sample_run();
    run2.label = "second";
    run2.status = "interrupted";
    run2.funnel = {100, 0, 40, 38, 2};
    auto b = db.create_run(run2);
    ASSERT_TRUE(b);
    auto more = make_hosts(2);
    ASSERT_OK(db.add_hosts(*b, more));
    auto trick = sample_probe(more[0].id, more[0].ip, "TO", 550, "t-imc");
    trick.variants = {{"imc", "", "", "TO", 550, "t-imc"},
                      {"percent-hack", "", "", "OK", 250, "t-pct"}};
    auto odd = sample_probe(more[1].id, more[1].ip, "EHLO", 502, "o");
    odd.transcript.push_back({90, '<', "502 \x1b[31mevil \"quoted\", <b>bold</b> | pipe \\x41"});
    ASSERT_OK(db.add_probes(*b, {trick, odd}));
    ASSERT_OK(db.add_arrival({"open", "delivery", "", "127.0.4.1", "", "", ""}));
    ASSERT_OK(db.add_arrival({"bouncer", "bounce", "", "127.0.4.2", "", "", ""}));
    ASSERT_OK(db.add_arrival({"t-pct", "delivery", "", "127.0.5.1", "", "", ""}));
    ASSERT_OK(db.add_arrival({"", "unmatched", "", "127.0.9.9", "", "", ""}));
    ids_ = {*a, *b};
  }
  std::vector<std::int64_t> ids_;
};

TEST_P(ReportOnBackend, TextGoldenAndHostsInEveryFormat) {
  auto path = location();
  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  fill(*db);
  auto data = report::build_report(*db, ids_);
  ASSERT_TRUE(data) << data.error().message;
  auto text = report::render_text(*data);
  EXPECT_NE(text.find("Response     Number     Percent\n"
                      "CONNECT      { 1, 0 }   { 20.0, 0.0 }\n"
                      "EHLO         { 0, 1 }   { 0.0, 50.0 }\n"
                      "TO           { 2, 1 }   { 40.0, 50.0 }\n"
                      "OK           { 2, 0 }   { 40.0, 0.0 }\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Delivered    { 1, 1 }\nBounced      { 1, 0 }\n"), std::string::npos) << text;

  // The same runs in a SQLite file: every rendering is the same.
  TempDir dir;
  auto ref = open_or_die(dir.file("reference.db"));
  ASSERT_TRUE(ref);
  fill(*ref);
  auto ref_data = report::build_report(*ref, ids_);
  ASSERT_TRUE(ref_data);
  for (auto f : {report::Format::text, report::Format::markdown, report::Format::json,
                 report::Format::csv}) {
    EXPECT_EQ(report::render(*data, f), report::render(*ref_data, f));
  }
  auto rows = report::build_host_rows(*db, ids_, true);
  auto ref_rows = report::build_host_rows(*ref, ids_, true);
  ASSERT_TRUE(rows && ref_rows);
  ASSERT_EQ(rows->size(), 7u);
  for (auto f : {report::Format::text, report::Format::json, report::Format::csv}) {
    EXPECT_EQ(report::render_hosts(*rows, f), report::render_hosts(*ref_rows, f));
  }
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& p) {
  return p.param;
}

INSTANTIATE_TEST_SUITE_P(Backends, ReportOnBackend, ::testing::Values("sqlite", "postgresql"),
                         backend_name);

}  // namespace
}  // namespace relayscope::store
