// The SQLite store: round trips of every record, the batch speed that a
// survey needs, consistency after an interrupted batch, resume's probed ids,
// and clear refusals of missing, broken and foreign files.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "store/schema.hpp"
#include "store/store.hpp"

namespace relayscope::store {
namespace {

namespace fs = std::filesystem;

#define ASSERT_OK(expr)                                               \
  do {                                                                \
    auto status_ = (expr);                                            \
    ASSERT_TRUE(status_) << (status_ ? "" : status_.error().message); \
  } while (0)

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "relayscope-store-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

std::unique_ptr<Store> open_or_die(const std::string& path) {
  auto s = open_sqlite(path);
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return s ? std::move(*s) : nullptr;
}

store::Run sample_run() {
  store::Run r;
  r.label = "July 1999";
  r.started_at = "1999-07-03T10:00:00Z";
  r.status = "running";
  r.params_json = R"({"sample":500,"seed":7})";
  r.funnel = {9238, 3, 3896, 3844, 500};
  return r;
}

Probe sample_probe(std::int64_t host_id, const std::string& ip, const std::string& outcome,
                   int code, const std::string& token) {
  Probe p;
  p.host_id = host_id;
  p.ip = ip;
  p.domain = "d" + std::to_string(host_id) + ".test";
  p.outcome = outcome;
  p.code = code;
  p.reason = code >= 500 ? "rejected (5xx)" : (code >= 400 ? "rejected (4xx)" : "ok");
  p.token = token;
  p.started_at = "1999-07-03T10:00:01Z";
  p.duration_us = 1234;
  p.greeting_host = "mx.example.test";
  p.esmtp = true;
  p.starttls_offered = host_id % 2 == 0;
  p.transcript = {{0, '*', "connect " + ip + ":25"},
                  {10, '<', "220 mx.example.test ESMTP"},
                  {11, '>', "EHLO prober.test"},
                  {20, '<', "250-mx.example.test"},
                  {21, '<', "250 PIPELINING"}};
  if (code != 0) {
    p.transcript.push_back({30, '>', "RCPT TO:<x@relay.test>"});
    p.transcript.push_back({40, '<', std::to_string(code) + "-first line"});
    p.transcript.push_back({41, '<', std::to_string(code) + " 5.7.1 relay denied"});
    p.transcript.push_back({50, '>', "QUIT"});
    p.transcript.push_back({60, '<', "221 bye"});
  }
  return p;
}

std::vector<Host> make_hosts(int n, int sampled_every = 1) {
  std::vector<Host> hosts;
  for (int i = 0; i < n; ++i) {
    Host h;
    h.ip = "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    h.mx_host = "mx" + std::to_string(i) + ".test";
    h.domains = {"a" + std::to_string(i) + ".test", "b" + std::to_string(i) + ".test"};
    h.fallback_ips = {"127.2.0." + std::to_string(i % 250 + 1)};
    h.sampled = i % sampled_every == 0;
    hosts.push_back(std::move(h));
  }
  return hosts;
}

TEST(SqliteStore, RunRoundTripAndLifecycle) {
  TempDir dir;
  auto db = open_or_die(dir.file("r.db"));
  ASSERT_TRUE(db);
  auto id = db->create_run(sample_run());
  ASSERT_TRUE(id) << id.error().message;
  auto id2 = db->create_run(store::Run{});
  ASSERT_TRUE(id2);
  EXPECT_GT(*id2, *id);

  Funnel f{10000, 5, 4000, 3900, 250, 17};
  ASSERT_OK(db->mark_prepared(*id, f));
  ASSERT_OK(db->finish_run(*id, "done", "1999-07-03T11:00:00Z"));

  auto r = db->get_run(*id);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->label, "July 1999");
  EXPECT_EQ(r->started_at, "1999-07-03T10:00:00Z");
  EXPECT_EQ(r->finished_at, "1999-07-03T11:00:00Z");
  EXPECT_EQ(r->status, "done");
  EXPECT_EQ(r->params_json, R"({"sample":500,"seed":7})");
  EXPECT_EQ(r->funnel.names, 10000);
  EXPECT_EQ(r->funnel.lines_without_address, 5);
  EXPECT_EQ(r->funnel.unique_domains, 4000);
  EXPECT_EQ(r->funnel.resolved_hosts, 3900);
  EXPECT_EQ(r->funnel.sampled, 250);
  EXPECT_EQ(r->funnel.excluded, 17);  // runs.excluded (v4)

  auto empty = db->get_run(*id2);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, "running");
  EXPECT_EQ(empty->params_json, "{}");

  auto all = db->list_runs();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, *id);  // oldest first
  EXPECT_EQ((*all)[1].id, *id2);
}

// Issue: resume after an interrupted preparation. A run is prepared only once
// mark_prepared is called; until then what preparation stored can be dropped
// and done again, and once prepared it cannot (its hosts may have probes).
TEST(SqliteStore, PreparationIsMarkedAndAnUnfinishedOneCanBeRedone) {
  auto opened = open_sqlite(":memory:");
  ASSERT_TRUE(opened);
  auto& db = *opened;
  auto id = db->create_run(sample_run());
  ASSERT_TRUE(id);
  auto fresh = db->get_run(*id);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->prepared);

  // A first preparation stopped after storing its hosts, before marking.
  ASSERT_OK(db->add_domains(*id, {{"a0.test", 1}, {"b0.test", 2}}));
  ASSERT_OK(db->add_resolutions(*id, {{"a0.test", "ok", "mx.a0.test", 10, "127.1.0.1", {}, ""}}));
  auto hosts = make_hosts(3);
  ASSERT_OK(db->add_hosts(*id, hosts));
  ASSERT_OK(db->discard_preparation(*id));
  auto none = db->get_hosts(*id, false);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto no_res = db->get_resolutions(*id);
  ASSERT_TRUE(no_res);
  EXPECT_TRUE(no_res->empty());

  // Done again, then marked: the same hosts go in without conflicts.
  ASSERT_OK(db->add_domains(*id, {{"a0.test", 1}, {"b0.test", 2}}));
  hosts = make_hosts(3);
  ASSERT_OK(db->add_hosts(*id, hosts));
  ASSERT_OK(db->mark_prepared(*id, Funnel{3, 0, 2, 3, 3}));
  auto r = db->get_run(*id);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->prepared);
  EXPECT_EQ(r->funnel.resolved_hosts, 3);
  EXPECT_EQ(r->funnel.sampled, 3);
  EXPECT_FALSE(db->discard_preparation(*id));
  auto kept = db->get_hosts(*id, false);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->size(), 3u);
  EXPECT_FALSE(db->mark_prepared(*id + 1, Funnel{}));
}

// A database made before runs had a `prepared` column is migrated: a run
// with hosts, or a finished one, had finished preparing; a run without
// hosts had not.
TEST(SqliteStore, MigrationMarksOldRunsWithHostsPrepared) {
  TempDir dir;
  auto path = dir.file("v1.db");
  std::int64_t with_hosts = 0, without = 0, finished = 0;
  {
    auto db = open_or_die(path);
    ASSERT_TRUE(db);
    auto a = db->create_run(sample_run());
    auto b = db->create_run(sample_run());
    auto c = db->create_run(sample_run());
    ASSERT_TRUE(a && b && c);
    with_hosts = *a, without = *b, finished = *c;
    auto hosts = make_hosts(2);
    ASSERT_OK(db->add_hosts(with_hosts, hosts));
    ASSERT_OK(db->finish_run(finished, "done", "1999-07-03T11:00:00Z"));
  }
  {
    // Back to version 1: the column did not exist.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(
                  raw,
                  "ALTER TABLE runs DROP COLUMN excluded; ALTER TABLE runs DROP COLUMN prepared; "
                  "PRAGMA user_version = 1",
                  nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  auto runs = db->list_runs();
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 3u);
  for (const auto& r : *runs) {
    EXPECT_EQ(r.prepared, r.id != without) << "run " << r.id;
  }
}

TEST(SqliteStore, UnknownRunIsAClearError) {
  auto db = open_sqlite(":memory:");
  ASSERT_TRUE(db) << db.error().message;
  auto r = (*db)->get_run(42);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no run with id 42");
  EXPECT_FALSE((*db)->mark_prepared(42, Funnel{}));
  EXPECT_FALSE((*db)->finish_run(42, "done", ""));
  EXPECT_FALSE((*db)->add_probes(42, {sample_probe(0, "127.0.0.9", "OK", 250, "t")}));
  EXPECT_FALSE((*db)->host_rows(42));
  EXPECT_FALSE((*db)->probed_host_ids(42));
}

TEST(SqliteStore, DomainsResolutionsHostsRoundTrip) {
  auto opened = open_sqlite(":memory:");
  ASSERT_TRUE(opened);
  auto& db = *opened;
  auto run = db->create_run(sample_run());
  ASSERT_TRUE(run);

  ASSERT_OK(db->add_domains(*run, {{"a.test", 3}, {"b.test", 1}}));
  ASSERT_OK(db->add_domains(*run, {{"a.test", 4}}));  // a later count replaces

  Resolution ok{"a.test", "ok", "mx.a.test", 10, "127.0.0.5", {"127.0.0.6", "127.0.0.7"}, ""};
  Resolution nx{"b.test", "nxdomain", "", -1, "", {}, "NXDOMAIN from 127.0.0.1:5353"};
  ASSERT_OK(db->add_resolutions(*run, {ok, nx}));
  auto rs = db->get_resolutions(*run);
  ASSERT_TRUE(rs) << rs.error().message;
  ASSERT_EQ(rs->size(), 2u);
  EXPECT_EQ((*rs)[0].domain, "a.test");
  EXPECT_EQ((*rs)[0].mx_host, "mx.a.test");
  EXPECT_EQ((*rs)[0].mx_preference, 10);
  EXPECT_EQ((*rs)[0].ip, "127.0.0.5");
  EXPECT_EQ((*rs)[0].fallback_ips, (std::vector<std::string>{"127.0.0.6", "127.0.0.7"}));
  EXPECT_EQ((*rs)[1].status, "nxdomain");
  EXPECT_EQ((*rs)[1].mx_preference, -1);
  EXPECT_TRUE((*rs)[1].fallback_ips.empty());
  EXPECT_EQ((*rs)[1].detail, "NXDOMAIN from 127.0.0.1:5353");

  auto hosts = make_hosts(5, 2);  // hosts 0, 2, 4 sampled
  ASSERT_OK(db->add_hosts(*run, hosts));
  for (const auto& h : hosts) EXPECT_GT(h.id, 0);
  EXPECT_NE(hosts[0].id, hosts[1].id);

  auto all = db->get_hosts(*run, false);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[1].id, hosts[1].id);
  EXPECT_EQ((*all)[1].ip, hosts[1].ip);
  EXPECT_EQ((*all)[1].mx_host, "mx1.test");
  EXPECT_EQ((*all)[1].domains, (std::vector<std::string>{"a1.test", "b1.test"}));
  EXPECT_EQ((*all)[1].fallback_ips, hosts[1].fallback_ips);
  EXPECT_FALSE((*all)[1].sampled);
  auto sampled = db->get_hosts(*run, true);
  ASSERT_TRUE(sampled);
  ASSERT_EQ(sampled->size(), 3u);
  EXPECT_EQ((*sampled)[2].id, hosts[4].id);
  EXPECT_EQ((*sampled)[2].domains, hosts[4].domains);
}

TEST(SqliteStore, ProbesRoundTripWithTranscriptsAndVariants) {
  auto opened = open_sqlite(":memory:");
  ASSERT_TRUE(opened);
  auto& db = *opened;
  auto run = db->create_run(sample_run());
  ASSERT_TRUE(run);
  auto hosts = make_hosts(2);
  ASSERT_OK(db->add_hosts(*run, hosts));

  auto p1 = sample_probe(hosts[0].id, hosts[0].ip, "TO", 554, "tok1");
  auto p2 = sample_probe(hosts[1].id, hosts[1].ip, "OK", 0, "tok2");
  p2.variants = {{"imc", "<a@b>", "<c@d>", "TO", 554, "tok2"},
                 {"percent-hack", "<a@b>", "<c%d@host>", "OK", 250, "tok3"}};
  ASSERT_OK(db->add_probes(*run, {p1, p2}));

  auto without = db->get_probes(*run, false);
  ASSERT_TRUE(without) << without.error().message;
  ASSERT_EQ(without->size(), 2u);
  EXPECT_TRUE((*without)[0].transcript.empty());
  EXPECT_EQ((*without)[1].variants.size(), 2u);  // variants come either way

  auto got = db->get_probes(*run, true);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  const auto& g = (*got)[0];
  EXPECT_EQ(g.host_id, p1.host_id);
  EXPECT_EQ(g.ip, p1.ip);
  EXPECT_EQ(g.domain, p1.domain);
  EXPECT_EQ(g.outcome, "TO");
  EXPECT_EQ(g.code, 554);
  EXPECT_EQ(g.reason, "rejected (5xx)");
  EXPECT_EQ(g.token, "tok1");
  EXPECT_EQ(g.started_at, p1.started_at);
  EXPECT_EQ(g.duration_us, 1234);
  EXPECT_EQ(g.greeting_host, "mx.example.test");
  EXPECT_TRUE(g.esmtp);
  EXPECT_EQ(g.starttls_offered, p1.starttls_offered);
  ASSERT_EQ(g.transcript.size(), p1.transcript.size());
  for (std::size_t i = 0; i < g.transcript.size(); ++i) {
    EXPECT_EQ(g.transcript[i].t_us, p1.transcript[i].t_us);
    EXPECT_EQ(g.transcript[i].direction, p1.transcript[i].direction);
    EXPECT_EQ(g.transcript[i].text, p1.transcript[i].text);
  }
  const auto& v = (*got)[1].variants;
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1].name, "percent-hack");
  EXPECT_EQ(v[1].mail_from, "<a@b>");
  EXPECT_EQ(v[1].rcpt_to, "<c%d@host>");
  EXPECT_EQ(v[1].outcome, "OK");
  EXPECT_EQ(v[1].code, 250);
  EXPECT_EQ(v[1].token, "tok3");
}

TEST(SqliteStore, TextIsStoredAsIsIncludingNulAndBinary) {
  auto opened = open_sqlite(":memory:");
  ASSERT_TRUE(opened);
  auto run = (*opened)->create_run(store::Run{});
  ASSERT_TRUE(run);
  auto p = sample_probe(0, "127.0.0.9", "CONNECT", 0, "");
  std::string odd("garbage\0\xff\x01 line", 16);
  p.transcript = {{0, '<', odd}, {1, '*', std::string(4096, 'x')}};
  ASSERT_OK((*opened)->add_probes(*run, {p}));
  auto got = (*opened)->get_probes(*run, true);
  ASSERT_TRUE(got);
  ASSERT_EQ((*got)[0].transcript.size(), 2u);
  EXPECT_EQ((*got)[0].transcript[0].text, odd);
  EXPECT_EQ((*got)[0].transcript[1].text.size(), 4096u);
  EXPECT_EQ((*got)[0].host_id, 0);  // no host: kept as none
}

TEST(SqliteStore, HostRowsTieArrivalsToProbesAndVariants) {
  auto opened = open_sqlite(":memory:");
  ASSERT_TRUE(opened);
  auto& db = *opened;
  auto run = db->create_run(sample_run());
  ASSERT_TRUE(run);
  auto hosts = make_hosts(4);
  ASSERT_OK(db->add_hosts(*run, hosts));
  auto closed = sample_probe(hosts[0].id, hosts[0].ip, "TO", 554, "t-closed");
  auto open = sample_probe(hosts[1].id, hosts[1].ip, "OK", 0, "t-open");
  auto bouncer = sample_probe(hosts[2].id, hosts[2].ip, "OK", 0, "t-bounce");
  auto trick = sample_probe(hosts[3].id, hosts[3].ip, "TO", 550, "t-trick");
  trick.variants = {{"imc", "", "", "TO", 550, "t-trick"},
                    {"percent-hack", "", "", "OK", 250, "t-trick-pct"},
                    {"bang-path", "", "", "TO", 550, "t-trick-bang"},
                    {"quoted", "", "", "OK", 250, "t-trick-q"}};
  auto refused = sample_probe(0, "127.9.9.9", "CONNECT", 0, "");
  refused.reason = "refused";
  ASSERT_OK(db->add_probes(*run, {closed, open, bouncer, trick, refused}));

  ASSERT_OK(db->add_arrival({"t-open", "delivery", "t", "127.0.0.2", "", "", "/m/1"}));
  ASSERT_OK(db->add_arrival({"t-bounce", "bounce", "t", "127.0.0.3", "", "", "/m/2"}));
  ASSERT_OK(db->add_arrival({"t-trick-pct", "delivery", "t", "127.0.0.4", "", "", "/m/3"}));
  ASSERT_OK(db->add_arrival({"", "unmatched", "t", "127.0.0.5", "", "", "/m/4"}));
  ASSERT_OK(db->add_arrival({"t-closed", "unmatched", "t", "127.0.0.5", "", "", "/m/5"}));

  auto rows = db->host_rows(*run);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 5u);
  const auto& r = *rows;
  EXPECT_EQ(r[0].domain, closed.domain);
  EXPECT_EQ(r[0].ip, closed.ip);
  EXPECT_EQ(r[0].outcome, "TO");
  EXPECT_EQ(r[0].code, 554);
  EXPECT_EQ(r[0].reply, "554 5.7.1 relay denied");  // the last line of the reply, not 221
  EXPECT_FALSE(r[0].delivered);
  EXPECT_FALSE(r[0].bounced);
  EXPECT_TRUE(r[1].delivered);
  EXPECT_FALSE(r[1].bounced);
  EXPECT_EQ(r[1].reply, "");  // code 0: no reply line
  EXPECT_FALSE(r[2].delivered);
  EXPECT_TRUE(r[2].bounced);
  EXPECT_TRUE(r[3].delivered);  // through a variant's token
  EXPECT_EQ(r[3].relaying_variants, (std::vector<std::string>{"percent-hack", "quoted"}));
  EXPECT_EQ(r[4].outcome, "CONNECT");
  EXPECT_EQ(r[4].reason, "refused");
  EXPECT_EQ(r[4].code, 0);
  for (const auto& row : r) EXPECT_EQ(row.run_id, *run);

  auto arrivals = db->get_arrivals();
  ASSERT_TRUE(arrivals);
  ASSERT_EQ(arrivals->size(), 5u);
  EXPECT_EQ((*arrivals)[1].kind, "bounce");
  EXPECT_EQ((*arrivals)[1].client_ip, "127.0.0.3");
  EXPECT_EQ((*arrivals)[1].message_path, "/m/2");
}

TEST(SqliteStore, AHostIsProbedOnceAndAFailedBatchLeavesNothing) {
  TempDir dir;
  auto path = dir.file("once.db");
  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  auto run = db->create_run(sample_run());
  ASSERT_TRUE(run);
  auto hosts = make_hosts(3);
  ASSERT_OK(db->add_hosts(*run, hosts));
  ASSERT_OK(db->add_probes(*run, {sample_probe(hosts[0].id, hosts[0].ip, "OK", 0, "a")}));

  // Second batch: host 1 (new) and host 0 again: refused as a whole.
  auto s = db->add_probes(*run, {sample_probe(hosts[1].id, hosts[1].ip, "OK", 0, "b"),
                                 sample_probe(hosts[0].id, hosts[0].ip, "TO", 554, "c")});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("already probed"), std::string::npos) << s.error().message;

  auto ids = db->probed_host_ids(*run);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::int64_t>{hosts[0].id}));
  auto probes = db->get_probes(*run, true);
  ASSERT_TRUE(probes);
  ASSERT_EQ(probes->size(), 1u);
  EXPECT_EQ((*probes)[0].transcript.size(), 5u);  // no stray lines of the failed batch

  // The store is still usable after the rollback.
  ASSERT_OK(db->add_probes(*run, {sample_probe(hosts[1].id, hosts[1].ip, "OK", 0, "b")}));
  ids = db->probed_host_ids(*run);
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->size(), 2u);
}

TEST(SqliteStore, AddHostsFailureAssignsNoIds) {
  auto opened = open_sqlite(":memory:");
  ASSERT_TRUE(opened);
  auto run = (*opened)->create_run(store::Run{});
  ASSERT_TRUE(run);
  auto hosts = make_hosts(2);
  hosts[1].ip = hosts[0].ip;  // one address is one host: a duplicate is refused
  EXPECT_FALSE((*opened)->add_hosts(*run, hosts));
  EXPECT_EQ(hosts[0].id, 0);
  auto got = (*opened)->get_hosts(*run, false);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
}

// A survey killed mid-run: the child process writes batches and is killed
// without closing anything. The file must open, hold whole batches only, and
// tell resume which hosts are done.
TEST(SqliteStore, KilledWriterLeavesAConsistentDatabase) {
  TempDir dir;
  auto path = dir.file("killed.db");
  std::int64_t run_id = 0;
  std::vector<Host> hosts = make_hosts(400);
  {
    auto db = open_or_die(path);
    ASSERT_TRUE(db);
    auto run = db->create_run(sample_run());
    ASSERT_TRUE(run);
    run_id = *run;
    ASSERT_OK(db->add_hosts(run_id, hosts));
  }
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    auto db = open_sqlite(path);
    if (!db) ::_exit(3);
    for (int b = 0; b < 40; ++b) {  // batches of 10
      std::vector<Probe> batch;
      for (int i = b * 10; i < b * 10 + 10; ++i) {
        batch.push_back(sample_probe(hosts[i].id, hosts[i].ip, "TO", 554, "t" + std::to_string(i)));
      }
      if (!(*db)->add_probes(run_id, batch)) ::_exit(4);
      if (b == 4) {
        char c = 'x';  // 5 batches are committed: the parent may kill us now
        if (::write(ready[1], &c, 1) != 1) ::_exit(5);
      }
    }
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));

  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  auto ids = db->probed_host_ids(run_id);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_GE(ids->size(), 50u);
  EXPECT_EQ(ids->size() % 10, 0u) << "only whole batches survive";
  auto probes = db->get_probes(run_id, true);
  ASSERT_TRUE(probes);
  EXPECT_EQ(probes->size(), ids->size());
  for (const auto& p : *probes) EXPECT_EQ(p.transcript.size(), 10u);
  auto run = db->get_run(run_id);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, "running");  // never finished: resume knows

  // Resume: probe the rest, skipping the done ones; none is probed twice.
  std::set<std::int64_t> done(ids->begin(), ids->end());
  std::vector<Probe> rest;
  for (const auto& h : hosts) {
    if (!done.count(h.id)) rest.push_back(sample_probe(h.id, h.ip, "OK", 0, "r" + h.ip));
  }
  ASSERT_OK(db->add_probes(run_id, rest));
  ids = db->probed_host_ids(run_id);
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->size(), hosts.size());
}

// The collector (another process) records arrivals while the survey writes
// its batches and a report reads: nobody gets "database is locked".
TEST(SqliteStore, ConcurrentWritersWaitInsteadOfFailing) {
  TempDir dir;
  auto path = dir.file("shared.db");
  auto hosts = make_hosts(500);
  std::int64_t run_id = 0;
  {
    auto db = open_or_die(path);
    ASSERT_TRUE(db);
    auto run = db->create_run(sample_run());
    ASSERT_TRUE(run);
    run_id = *run;
    ASSERT_OK(db->add_hosts(run_id, hosts));
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto db = open_sqlite(path);
    if (!db) ::_exit(3);
    for (int i = 0; i < 300; ++i) {
      if (!(*db)->add_arrival({"tok" + std::to_string(i), "delivery", "", "", "", "", ""})) {
        ::_exit(4);
      }
    }
    ::_exit(0);
  }
  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  for (int b = 0; b < 50; ++b) {
    std::vector<Probe> batch;
    for (int i = b * 10; i < b * 10 + 10; ++i) {
      batch.push_back(sample_probe(hosts[i].id, hosts[i].ip, "OK", 250, "tok" + std::to_string(i)));
    }
    ASSERT_OK(db->add_probes(run_id, batch));
    ASSERT_TRUE(db->host_rows(run_id));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto rows = db->host_rows(run_id);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 500u);
  int delivered = 0;
  for (const auto& r : *rows) delivered += r.delivered ? 1 : 0;
  EXPECT_EQ(delivered, 300);
}

TEST(SqliteStore, WalModeAndSchemaVersionOnDisk) {
  TempDir dir;
  auto path = dir.file("wal.db");
  ASSERT_TRUE(open_or_die(path));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto one = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sql, -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    std::string v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
  };
  EXPECT_EQ(one("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(one("PRAGMA user_version"), std::to_string(schema_version()));
  EXPECT_EQ(one("PRAGMA application_id"), std::to_string(0x52535350));
  sqlite3_close(raw);
  // Reopening an existing database migrates nothing and keeps the data.
  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->create_run(store::Run{}));
  db.reset();
  db = open_or_die(path);
  ASSERT_TRUE(db);
  auto runs = db->list_runs();
  ASSERT_TRUE(runs);
  EXPECT_EQ(runs->size(), 1u);
}

TEST(SqliteStore, RefusesMissingBrokenForeignAndNewerFiles) {
  TempDir dir;
  // Missing, in existing mode: an error, and no file is created.
  auto missing = dir.file("missing.db");
  auto m = open_sqlite(missing, OpenMode::existing);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("no database at"), std::string::npos);
  EXPECT_FALSE(fs::exists(missing));

  // Empty file in existing mode: not ours (and not given a schema).
  auto empty = dir.file("empty.db");
  std::ofstream(empty).close();
  auto e = open_sqlite(empty, OpenMode::existing);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("not a relayscope database"), std::string::npos);
  EXPECT_EQ(fs::file_size(empty), 0u);

  // A text file.
  auto text = dir.file("text.db");
  {
    std::ofstream f(text);
    f << std::string(4096, 'z') << "\nthis is not a database\n";
  }
  auto t = open_sqlite(text);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("not a relayscope database"), std::string::npos)
      << t.error().message;

  // Another application's SQLite file.
  auto foreign = dir.file("foreign.db");
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(foreign.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE x(a); INSERT INTO x VALUES (1);", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  auto f = open_sqlite(foreign);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("not a relayscope database"), std::string::npos);

  // A directory.
  auto d = open_sqlite(dir.file(""), OpenMode::existing);
  ASSERT_FALSE(d);

  // Ours but from a newer relayscope.
  auto newer = dir.file("newer.db");
  ASSERT_TRUE(open_or_die(newer));
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(newer.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  auto n = open_sqlite(newer, OpenMode::existing);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message.find("newer"), std::string::npos);
}

// The survey writes 10,000 probes x 12 transcript lines in batches; the store
// must keep up by a wide margin (the figure is printed for the record).
TEST(SqliteStore, BatchInsertSpeed) {
  TempDir dir;
  auto db = open_or_die(dir.file("speed.db"));
  ASSERT_TRUE(db);
  auto run = db->create_run(store::Run{});
  ASSERT_TRUE(run);
  auto hosts = make_hosts(10000);
  ASSERT_OK(db->add_hosts(*run, hosts));
  std::vector<std::vector<Probe>> batches(10);
  for (int i = 0; i < 10000; ++i) {
    auto p = sample_probe(hosts[i].id, hosts[i].ip, "TO", 554, "tok" + std::to_string(i));
    p.transcript.push_back({70, '*', "closed"});
    p.transcript.push_back({71, '*', "done"});
    EXPECT_EQ(p.transcript.size(), 12u);
    batches[i / 1000].push_back(std::move(p));
  }
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& b : batches) ASSERT_OK(db->add_probes(*run, b));
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double probes_per_s = 10000 / secs;
  std::printf("[ figures ] 10000 probes x 12 lines in %.3f s: %.0f probes/s, %.0f rows/s\n", secs,
              probes_per_s, 10000 * 13 / secs);
  // Generous bound: even a sanitizer build on a shared machine does this in seconds.
  EXPECT_LT(secs, 30.0);
  auto ids = db->probed_host_ids(*run);
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->size(), 10000u);
}

}  // namespace
}  // namespace relayscope::store
