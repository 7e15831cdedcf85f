// The report built from a real (in-memory) store: reasons, collector,
// variants, every format, `--hosts`, run selection, and hostile reply text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "report/build.hpp"
#include "report/escape.hpp"
#include "report/render.hpp"

namespace relayscope::report {
namespace {

#define ASSERT_OK(expr)                                               \
  do {                                                                \
    auto status_ = (expr);                                            \
    ASSERT_TRUE(status_) << (status_ ? "" : status_.error().message); \
  } while (0)

store::Probe probe(const std::string& domain, const std::string& ip, const std::string& outcome,
                   int code, const std::string& reason, const std::string& token,
                   const std::string& reply = "") {
  store::Probe p;
  p.ip = ip;
  p.domain = domain;
  p.outcome = outcome;
  p.code = code;
  p.reason = reason;
  p.token = token;
  p.transcript.push_back({0, '*', "connect"});
  p.transcript.push_back({1, '<', "220 hello"});
  if (!reply.empty()) p.transcript.push_back({2, '<', reply});
  p.transcript.push_back({3, '<', "221 bye"});
  return p;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::open_sqlite(":memory:");
    ASSERT_TRUE(s) << s.error().message;
    db = std::move(*s);
    store::Run r1;
    r1.label = "first";
    r1.started_at = "2024-01-01T00:00:00Z";
    r1.status = "done";
    r1.funnel = {100, 2, 40, 38, 10};
    auto id = db->create_run(r1);
    ASSERT_TRUE(id);
    run1 = *id;
    std::vector<store::Probe> ps;
    for (int i = 0; i < 5; ++i) {
      ps.push_back(probe("closed" + std::to_string(i) + ".test", "127.0.1." + std::to_string(i + 1),
                         "TO", 554, "rejected (5xx)", "c" + std::to_string(i),
                         "554 5.7.1 <x" + std::to_string(i) + "@relay.test>: Relay access denied"));
    }
    ps.push_back(probe("grey.test", "127.0.2.1", "TO", 450, "rejected (4xx)", "g",
                       "450 4.7.1 greylisted, try later"));
    ps.push_back(probe("down.test", "127.0.3.1", "CONNECT", 0, "refused", ""));
    ps.push_back(probe("down2.test", "127.0.3.2", "CONNECT", 0, "refused", ""));
    auto open = probe("open.test", "127.0.4.1", "OK", 250, "ok", "tok-open");
    auto bouncer = probe("bouncer.test", "127.0.4.2", "OK", 250, "ok", "tok-bounce");
    ps.push_back(open);
    ps.push_back(bouncer);
    ASSERT_OK(db->add_probes(run1, ps));

    store::Run r2;
    r2.label = "second";
    r2.started_at = "2024-02-01T00:00:00Z";
    r2.status = "interrupted";
    r2.funnel = {100, 0, 40, 38, 4};
    id = db->create_run(r2);
    ASSERT_TRUE(id);
    run2 = *id;
    auto trick = probe("trick.test", "127.0.5.1", "TO", 550, "rejected (5xx)", "t-imc",
                       "550 5.7.1 Relaying denied");
    trick.variants = {{"imc", "", "", "TO", 550, "t-imc"},
                      {"percent-hack", "", "", "OK", 250, "t-pct"},
                      {"bang-path", "", "", "TO", 550, "t-bang"}};
    auto closed = probe("closed0.test", "127.0.1.1", "TO", 554, "rejected (5xx)", "c-2",
                        "554 5.7.1 <y@relay.test>: Relay access denied");
    closed.variants = {{"imc", "", "", "TO", 554, "c-2"},
                       {"percent-hack", "", "", "TO", 554, "c-2-pct"}};
    auto odd = probe("odd,name.test", "127.0.6.1", "EHLO", 502, "rejected (5xx)", "o",
                     "502 \x1b[31mevil \"quoted\", <b>bold</b> | pipe");
    ASSERT_OK(db->add_probes(run2, {trick, closed, odd}));

    ASSERT_OK(db->add_arrival({"tok-open", "delivery", "", "127.0.4.1", "", "", ""}));
    ASSERT_OK(db->add_arrival({"tok-bounce", "bounce", "", "127.0.4.2", "", "", ""}));
    ASSERT_OK(db->add_arrival({"t-pct", "delivery", "", "127.0.5.1", "", "", ""}));
    ASSERT_OK(db->add_arrival({"", "unmatched", "", "127.0.9.9", "", "", ""}));
  }

  ReportData both() {
    auto d = build_report(*db, {run1, run2});
    EXPECT_TRUE(d) << d.error().message;
    return d ? *d : ReportData{};
  }

  std::unique_ptr<store::Store> db;
  std::int64_t run1 = 0, run2 = 0;
};

TEST(ReportModel, AVariantNotTriedIsRecordedButNotCountedAsTested) {
  RunReport run;
  add_variants(run, {{"imc", "<p+t@c.test>", "<r+t@c.test>", "TO", 554, "t"},
                     {"bang-path", "", "", "NOT_TRIED", 0, ""}});
  EXPECT_EQ(run.variants.at("imc").tested, 1);
  EXPECT_EQ(run.variants.count("bang-path"), 0u);
}

TEST_F(ReportTest, ModelCountsOutcomesClassesReasonsCollectorVariants) {
  auto d = both();
  ASSERT_EQ(d.runs.size(), 2u);
  const auto& a = d.runs[0];
  EXPECT_EQ(a.probed, 10);
  EXPECT_EQ(a.outcomes.at("TO"), 6);
  EXPECT_EQ(a.permanent.at("TO"), 5);
  EXPECT_EQ(a.transient.at("TO"), 1);
  EXPECT_EQ(a.outcomes.at("CONNECT"), 2);
  EXPECT_EQ(a.outcomes.at("OK"), 2);
  EXPECT_EQ((a.reasons.at({"TO", "554 5.7.1 <...>: Relay access denied"})), 5);
  EXPECT_EQ((a.reasons.at({"TO", "450 4.7.1 greylisted, try later"})), 1);
  EXPECT_EQ((a.reasons.at({"CONNECT", "refused"})), 2);
  EXPECT_EQ(a.delivered, 1);
  EXPECT_EQ(a.bounced, 1);
  EXPECT_TRUE(a.variants.empty());
  const auto& b = d.runs[1];
  EXPECT_EQ(b.delivered, 1);  // through the percent-hack variant's token
  EXPECT_EQ(b.variants.at("percent-hack").relayed, 1);
  EXPECT_EQ(b.variants.at("percent-hack").tested, 2);
  EXPECT_EQ(b.variants.at("imc").tested, 2);
  EXPECT_EQ(b.variants.at("imc").relayed, 0);
  EXPECT_EQ(b.variants.at("bang-path").tested, 1);
  EXPECT_EQ(b.relayed_any, 1);
  EXPECT_EQ(d.unmatched_arrivals, 1);
}

TEST_F(ReportTest, TextGolden) {
  auto text = render_text(both());
  EXPECT_EQ(text,
            "Run 1 \"first\": started 2024-01-01T00:00:00Z, done\n"
            "Run 2 \"second\": started 2024-02-01T00:00:00Z, interrupted\n"
            "\n"
            "Names                     { 100, 100 }\n"
            "Lines without an address  { 2, 0 }\n"
            "Unique mail hosts         { 40, 40 }\n"
            "Resolved hosts            { 38, 38 }\n"
            "Sampled                   { 10, 4 }\n"
            "Probed                    { 10, 3 }\n"
            "\n"
            "Response     Number     Percent\n"
            "CONNECT      { 2, 0 }   { 20.0, 0.0 }\n"
            "EHLO         { 0, 1 }   { 0.0, 25.0 }\n"
            "TO           { 6, 2 }   { 60.0, 50.0 }\n"
            "OK           { 2, 0 }   { 20.0, 0.0 }\n"
            "\n"
            "Collector    Number\n"
            "Delivered    { 1, 1 }\n"
            "Bounced      { 1, 0 }\n"
            "Unmatched arrivals (any run): 1\n"
            "\n"
            "Reasons\n"
            "Response     Class   Number     Reason\n"
            "CONNECT      -       { 2, 0 }   refused\n"
            "EHLO         5xx     { 0, 1 }   502 [31mevil \"quoted\", <...>bold<...> | pipe\n"
            "TO           5xx     { 5, 1 }   554 5.7.1 <...>: Relay access denied\n"
            "TO           4xx     { 1, 0 }   450 4.7.1 greylisted, try later\n"
            "TO           5xx     { 0, 1 }   550 5.7.1 Relaying denied\n"
            "\n"
            "Variants that relayed (hosts)\n"
            "Variant       Relayed    Tested\n"
            "percent-hack  { 0, 1 }   { 0, 2 }\n"
            "bang-path     { 0, 0 }   { 0, 1 }\n"
            "imc           { 0, 0 }   { 0, 2 }\n"
            "any variant   { 0, 1 }   { 10, 3 }\n"
            "\n"
            "Verdict       Number     Percent\n"
            "relayed       { 2, 1 }   { 20.0, 25.0 }\n"
            "refused       { 7, 2 }   { 70.0, 50.0 }\n"
            "inconclusive  { 1, 0 }   { 10.0, 0.0 }\n");
}

TEST_F(ReportTest, ReasonsFoldBeyondTheLimit) {
  ReportData d;
  RunReport r;
  for (int i = 0; i < 5; ++i) r.reasons[{"TO", "55" + std::to_string(i) + " x"}] = 10 - i;
  d.runs.push_back(r);
  auto t = reason_table(d, 3);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].reason, "550 x");
  EXPECT_EQ(t.rows[1].reason, "551 x");
  EXPECT_EQ(t.rows[2].reason, kOtherReasons);
  EXPECT_EQ(t.counts[2][0], 8 + 7 + 6);
}

TEST_F(ReportTest, HostsCsvHasTheContractColumns) {
  auto rows = build_host_rows(*db, {run1});
  ASSERT_TRUE(rows);
  auto csv = render_hosts(*rows, Format::csv);
  std::istringstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("domain,ip,outcome,code,reason,", 0), 0u) << header;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[0].rfind("closed0.test,127.0.1.1,TO,554,rejected (5xx),", 0), 0u) << lines[0];
  EXPECT_EQ(lines[6].rfind("down.test,127.0.3.1,CONNECT,,refused,", 0), 0u) << lines[6];
  EXPECT_NE(lines[8].find(",1,0,"), std::string::npos) << lines[8];  // delivered, not bounced
  EXPECT_NE(lines[9].find(",0,1,"), std::string::npos) << lines[9];  // bounced

  auto rows2 = build_host_rows(*db, {run2});
  ASSERT_TRUE(rows2);
  auto csv2 = render_hosts(*rows2, Format::csv);
  EXPECT_NE(csv2.find("\ntrick.test,127.0.5.1,TO,550,rejected (5xx),550 5.7.1 Relaying denied,1,0,"
                      "percent-hack,"),
            std::string::npos)
      << csv2;
  EXPECT_NE(csv2.find("\"odd,name.test\""), std::string::npos);  // quoted, not split
  EXPECT_NE(csv2.find("\"502 \x1b[31mevil \"\"quoted\"\", <b>bold</b> | pipe\""),
            std::string::npos);
}

TEST_F(ReportTest, HostsOtherFormats) {
  auto rows = build_host_rows(*db, {run1, run2});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 13u);
  auto text = render_hosts(*rows, Format::text);
  EXPECT_EQ(text.rfind("Run  Domain", 0), 0u) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("  percent-hack  "), std::string::npos) << text;
  auto j = nlohmann::json::parse(render_hosts(*rows, Format::json));
  ASSERT_EQ(j["hosts"].size(), 13u);
  EXPECT_EQ(j["hosts"][6]["code"], nullptr);
  EXPECT_EQ(j["hosts"][0]["code"], 554);
  EXPECT_EQ(j["hosts"][10]["relaying_variants"][0], "percent-hack");
  auto md = render_hosts(*rows, Format::markdown);
  EXPECT_NE(md.find("| 2 | odd,name.test |"), std::string::npos);
  EXPECT_NE(md.find("\\| pipe"), std::string::npos);
  auto html = render_hosts(*rows, Format::html);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;bold"), std::string::npos);
}

TEST_F(ReportTest, JsonCarriesEveryFigure) {
  auto j = nlohmann::json::parse(render_json(both()));
  ASSERT_EQ(j["runs"].size(), 2u);
  auto& a = j["runs"][0];
  EXPECT_EQ(a["id"], run1);
  EXPECT_EQ(a["label"], "first");
  EXPECT_EQ(a["funnel"]["sampled"], 10);
  EXPECT_EQ(a["funnel"]["probed"], 10);
  EXPECT_EQ(a["outcomes"]["TO"]["number"], 6);
  EXPECT_DOUBLE_EQ(a["outcomes"]["TO"]["percent"].get<double>(), 60.0);
  EXPECT_EQ(a["outcomes"]["TO"]["4xx"], 1);
  EXPECT_EQ(a["outcomes"]["TO"]["5xx"], 5);
  EXPECT_EQ(a["delivered"], 1);
  EXPECT_EQ(a["bounced"], 1);
  EXPECT_EQ(j["runs"][1]["variants"]["percent-hack"]["relayed"], 1);
  EXPECT_EQ(j["unmatched_arrivals"], 1);
  bool found = false;
  for (const auto& r : a["reasons"]) {
    if (r["reason"] == "554 5.7.1 <...>: Relay access denied") {
      found = true;
      EXPECT_EQ(r["number"], 5);
      EXPECT_EQ(r["class"], "5xx");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ReportTest, JsonSurvivesInvalidUtf8) {
  ReportData d;
  RunReport r;
  r.label = "bad \xff\xfe utf8";
  r.reasons[{"TO", "554 \xc3"}] = 1;
  d.runs.push_back(r);
  auto j = nlohmann::json::parse(render_json(d));
  EXPECT_EQ(j["runs"][0]["label"], "bad \xef\xbf\xbd\xef\xbf\xbd utf8");
}

TEST_F(ReportTest, CsvSummaryRows) {
  auto csv = render_csv(both());
  EXPECT_EQ(csv.rfind("run_id,label,table,name,detail,number,percent\n", 0), 0u);
  EXPECT_NE(csv.find("\n1,first,outcome,TO,,6,60.0\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n1,first,outcome_class,TO,4xx,1,10.0\n"), std::string::npos);
  EXPECT_NE(csv.find("\n1,first,funnel,sampled,,10,\n"), std::string::npos);
  EXPECT_NE(csv.find("\n1,first,collector,delivered,,1,\n"), std::string::npos);
  EXPECT_NE(csv.find("\n2,second,variant,percent-hack,relayed,1,\n"), std::string::npos);
  EXPECT_NE(csv.find("\n1,first,reason,TO,554 5.7.1 <...>: Relay access denied,5,50.0\n"),
            std::string::npos);
}

TEST_F(ReportTest, MarkdownTables) {
  auto md = render_markdown(both());
  EXPECT_NE(md.find("| Response | Run 1: first | Run 2: second |\n|---|---:|---:|\n"
                    "| CONNECT | 2 (20.0%) | 0 (0.0%) |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| TO | 5xx | 554 5.7.1 \\<...\\>: Relay access denied | 5 | 1 |"),
            std::string::npos);
  EXPECT_NE(md.find("| percent-hack | 0 / 0 | 1 / 2 |"), std::string::npos);
  EXPECT_EQ(md.find('\x1b'), std::string::npos);

  auto one = build_report(*db, {run1});
  ASSERT_TRUE(one);
  auto md1 = render_markdown(*one);
  EXPECT_NE(md1.find("| Response | Number | Percent |\n|---|---:|---:|\n| CONNECT | 2 | 20.0 |\n"),
            std::string::npos)
      << md1;
}

TEST_F(ReportTest, HtmlIsSelfContainedWithAChart) {
  auto html = render_html(both());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  // The only http URL is the SVG namespace, which loads nothing.
  std::regex url("https?://");
  auto n = std::distance(std::sregex_iterator(html.begin(), html.end(), url), {});
  EXPECT_EQ(n, 1);
  EXPECT_NE(html.find("http://www.w3.org/2000/svg"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  // One bar segment per non-zero outcome per run: 3 in run 1, 2 in run 2.
  std::regex seg("<rect class=\"seg\"");
  EXPECT_EQ(std::distance(std::sregex_iterator(html.begin(), html.end(), seg), {}), 5);
  EXPECT_NE(html.find("data-outcome=\"OK\""), std::string::npos);
  EXPECT_NE(html.find(">60.0%<"), std::string::npos);  // run 1's TO share, labelled in its bar
  EXPECT_NE(html.find("id=\"funnel\""), std::string::npos);
  EXPECT_NE(html.find("id=\"outcomes\""), std::string::npos);
  EXPECT_NE(html.find("id=\"collector\""), std::string::npos);
  EXPECT_NE(html.find("id=\"variants\""), std::string::npos);
  // Hostile reply text is escaped, never markup.
  EXPECT_EQ(html.find("<b>bold"), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
  EXPECT_NE(html.find("502 [31mevil &quot;quoted&quot;, &lt;...&gt;bold"), std::string::npos);
}

TEST_F(ReportTest, RunSelection) {
  auto all = select_runs(*db, "all");
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, (std::vector<std::int64_t>{run1, run2}));
  auto latest = select_runs(*db, "");
  ASSERT_TRUE(latest);
  EXPECT_EQ(*latest, (std::vector<std::int64_t>{run2}));
  auto some = select_runs(*db, "2, 1");
  ASSERT_TRUE(some);
  EXPECT_EQ(*some, (std::vector<std::int64_t>{2, 1}));  // in the order asked
  auto unknown = select_runs(*db, "1,7");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "unknown run id 7 (runs: 1, 2)");
  for (const char* bad : {"x", "1,", ",1", "1;2", "-1", "0", "1.5", "99999999999999999999"}) {
    auto r = select_runs(*db, bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("bad run id"), std::string::npos) << bad;
    }
  }
}

TEST(ReportEmpty, NoRunsIsNotAnError) {
  auto s = store::open_sqlite(":memory:");
  ASSERT_TRUE(s);
  auto ids = select_runs(**s, "");
  ASSERT_TRUE(ids);
  EXPECT_TRUE(ids->empty());
  auto d = build_report(**s, *ids);
  ASSERT_TRUE(d);
  EXPECT_EQ(render_text(*d), "No runs.\n");
  EXPECT_NO_THROW(nlohmann::json::parse(render_json(*d)));
  EXPECT_NE(render_html(*d).find("No runs."), std::string::npos);
  EXPECT_EQ(render_hosts({}, Format::csv),
            "domain,ip,outcome,code,reason,reply,delivered,bounced,relaying_variants,run_id,token,"
            "greylisted,verdict,first_reply\n");
}

TEST(Escape, TextIsMadeSafe) {
  EXPECT_EQ(printable("a\x1b[2Jb\r\n\x7f"), "a?[2Jb???");
  EXPECT_EQ(printable("\xc2\x9b"
                      "31m"),
            "?31m");  // C1 CSI in UTF-8
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(html_escape("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(markdown_escape("a|b*c_<d>"), "a\\|b\\*c\\_\\<d\\>");
  EXPECT_EQ(figures({"1"}), "1");
  EXPECT_EQ(figures({"1", "22", "333"}), "{ 1, 22, 333 }");
}

TEST(Reason, MasksWhatDiffersPerHost) {
  store::HostRow r;
  r.code = 554;
  r.reply = "554 5.7.1 <tok123@relay.test>: Relay access denied";
  EXPECT_EQ(reason_of(r), "554 5.7.1 <...>: Relay access denied");
  r.reply = "550 [127.0.0.5] is   not\tallowed";
  EXPECT_EQ(reason_of(r), "550 [...] is not allowed");
  // A greeting names its host: two hosts' refusals are one reason.
  r.reply = "554 mx7.Example.test ESMTP not accepting mail from 192.0.2.7.";
  EXPECT_EQ(reason_of(r), "554 {host} ESMTP not accepting mail from {ip}.");
  r.reply = "554 5.7.1 relaying denied.";
  EXPECT_EQ(reason_of(r), "554 5.7.1 relaying denied.");
  r.reply = "";
  r.reason = "rejected (5xx)";
  EXPECT_EQ(reason_of(r), "554 rejected (5xx)");
  r.code = 0;
  r.reason = "timeout";
  EXPECT_EQ(reason_of(r), "timeout");
  r.reason = "";
  EXPECT_EQ(reason_of(r), "(no reason recorded)");
  r.code = 550;
  r.reply = "550 " + std::string(500, 'x');
  EXPECT_LE(reason_of(r).size(), 104u);
  EXPECT_EQ(reply_class("450 x"), "4xx");
  EXPECT_EQ(reply_class("554"), "5xx");
  EXPECT_EQ(reply_class("refused"), "");
  EXPECT_EQ(reply_class("5000 x"), "");
}

TEST(Format, Parse) {
  EXPECT_TRUE(parse_format("text"));
  EXPECT_TRUE(parse_format("markdown"));
  EXPECT_TRUE(parse_format("json"));
  EXPECT_TRUE(parse_format("csv"));
  EXPECT_TRUE(parse_format("html"));
  auto bad = parse_format("pdf");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown format 'pdf'"), std::string::npos);
}

}  // namespace
}  // namespace relayscope::report
