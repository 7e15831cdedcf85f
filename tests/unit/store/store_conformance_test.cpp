// The store's conformance suite, run against SQLite and against a real
// PostgreSQL: round trips of every record, the batch speed that a survey
// needs, consistency after an interrupted batch, resume's probed ids, and
// the leases that --join workers share a run with.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <set>

#include "store_test_support.hpp"

namespace relayscope::store {
namespace {

TEST_P(StoreConformance, RunRoundTripAndLifecycle) {
  auto db = open_or_die(location());
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
TEST_P(StoreConformance, PreparationIsMarkedAndAnUnfinishedOneCanBeRedone) {
  auto opened = open_store(location(), OpenMode::create);
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

TEST_P(StoreConformance, UnknownRunIsAClearError) {
  auto db = open_store(location(), OpenMode::create);
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

TEST_P(StoreConformance, DomainsResolutionsHostsRoundTrip) {
  auto opened = open_store(location(), OpenMode::create);
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

TEST_P(StoreConformance, ProbesRoundTripWithTranscriptsAndVariants) {
  auto opened = open_store(location(), OpenMode::create);
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

TEST_P(StoreConformance, TextIsStoredAsIsIncludingNulAndBinary) {
  auto opened = open_store(location(), OpenMode::create);
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

TEST_P(StoreConformance, HostRowsTieArrivalsToProbesAndVariants) {
  auto opened = open_store(location(), OpenMode::create);
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

// The collector's arrival line names the probe behind a token: the probe's
// own token or one of its variants', in whichever run carried it.
TEST_P(StoreConformance, TokenOwnerNamesTheProbeAndItsRun) {
  auto opened = open_store(location(), OpenMode::create);
  ASSERT_TRUE(opened);
  auto& db = *opened;
  auto first = db->create_run(sample_run());
  ASSERT_TRUE(first);
  auto second = db->create_run(sample_run());
  ASSERT_TRUE(second);
  auto hosts = make_hosts(2);
  ASSERT_OK(db->add_hosts(*second, hosts));
  auto open = sample_probe(hosts[0].id, hosts[0].ip, "OK", 0, "t-open");
  auto trick = sample_probe(hosts[1].id, hosts[1].ip, "TO", 550, "t-trick");
  trick.variants = {{"percent-hack", "", "", "OK", 250, "t-trick-pct"}};
  ASSERT_OK(db->add_probes(*second, {open, trick}));

  auto o = db->token_owner("t-open");
  ASSERT_TRUE(o) << o.error().message;
  ASSERT_TRUE(o->has_value());
  EXPECT_EQ((*o)->run_id, *second);
  auto t = db->token_owner("t-trick");
  ASSERT_TRUE(t && t->has_value());
  EXPECT_EQ((*t)->run_id, *second);
  EXPECT_NE((*t)->probe_id, (*o)->probe_id);
  auto v = db->token_owner("t-trick-pct");  // a variant's token: its probe
  ASSERT_TRUE(v && v->has_value());
  EXPECT_EQ((*v)->probe_id, (*t)->probe_id);
  EXPECT_EQ((*v)->run_id, *second);
  auto none = db->token_owner("t-nobody");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto empty = db->token_owner("");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_value());
}

TEST_P(StoreConformance, AHostIsProbedOnceAndAFailedBatchLeavesNothing) {
  auto path = location();
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

TEST_P(StoreConformance, AddHostsFailureAssignsNoIds) {
  auto opened = open_store(location(), OpenMode::create);
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
TEST_P(StoreConformance, KilledWriterLeavesAConsistentDatabase) {
  auto path = location();
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
    auto db = open_store(path, OpenMode::create);
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
TEST_P(StoreConformance, ConcurrentWritersWaitInsteadOfFailing) {
  auto path = location();
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
    auto db = open_store(path, OpenMode::create);
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

// The survey writes 10,000 probes x 12 transcript lines in batches; the store
// must keep up by a wide margin (the figure is printed for the record).
TEST_P(StoreConformance, BatchInsertSpeed) {
  auto db = open_or_die(location());
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

// --join: every sampled, unprobed host goes to one worker at a time; a lease
// that ran out (here: given a negative length) is taken by the next claim.
TEST_P(StoreConformance, LeasesGiveEachHostToOneWorkerAndExpiredOnesAreRetaken) {
  auto db = open_or_die(location());
  ASSERT_TRUE(db);
  auto run = db->create_run(sample_run());
  ASSERT_TRUE(run);
  auto hosts = make_hosts(12, 1);
  hosts[11].sampled = false;  // never claimed
  ASSERT_OK(db->add_hosts(*run, hosts));
  ASSERT_OK(db->add_probes(*run, {sample_probe(hosts[0].id, hosts[0].ip, "OK", 0, "done")}));

  auto a = db->claim_hosts(*run, "a", 4, 60000);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->size(), 4u);
  EXPECT_EQ((*a)[0].id, hosts[1].id);  // the probed host is not claimed
  EXPECT_EQ((*a)[0].domains, hosts[1].domains);
  EXPECT_EQ((*a)[0].fallback_ips, hosts[1].fallback_ips);
  auto b = db->claim_hosts(*run, "b", 100, -1000);  // b's lease has run out at once
  ASSERT_TRUE(b);
  ASSERT_EQ(b->size(), 6u);
  std::set<std::int64_t> seen;
  for (const auto& h : *a) seen.insert(h.id);
  for (const auto& h : *b) EXPECT_TRUE(seen.insert(h.id).second) << "host given twice";
  auto left = db->unprobed_count(*run);
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, 10);

  // c takes b's expired hosts, not a's running ones.
  auto c = db->claim_hosts(*run, "c", 100, 60000);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 6u);
  EXPECT_EQ((*c)[0].id, (*b)[0].id);

  // b's late write is discarded (c holds the host now); c's is kept; a
  // second write for a probed host is discarded too: the first one wins.
  auto late =
      db->add_leased_probes(*run, "b", {sample_probe((*b)[0].id, (*b)[0].ip, "TO", 554, "late")});
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_EQ(*late, (std::vector<std::int64_t>{(*b)[0].id}));
  auto mine = db->add_leased_probes(*run, "c",
                                    {sample_probe((*c)[0].id, (*c)[0].ip, "OK", 0, "c0"),
                                     sample_probe((*a)[0].id, (*a)[0].ip, "OK", 0, "not-c's")});
  ASSERT_TRUE(mine);
  EXPECT_EQ(*mine, (std::vector<std::int64_t>{(*a)[0].id}));
  auto again =
      db->add_leased_probes(*run, "c", {sample_probe((*c)[0].id, (*c)[0].ip, "TO", 1, "x")});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 1u);
  auto probes = db->get_probes(*run, false);
  ASSERT_TRUE(probes);
  ASSERT_EQ(probes->size(), 2u);
  EXPECT_EQ((*probes)[1].token, "c0");
  left = db->unprobed_count(*run);
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, 9);

  // Renewing keeps a's hosts a's even when its lease would have run out.
  ASSERT_OK(db->renew_leases(*run, "a", 60000));
  auto d = db->claim_hosts(*run, "d", 100, 60000);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->empty());
}

// MX fallback addresses: one worker at a time may connect to an address.
TEST_P(StoreConformance, AnAddressIsClaimedByOneWorkerAtATime) {
  auto db = open_or_die(location());
  ASSERT_TRUE(db);
  auto run = db->create_run(sample_run());
  ASSERT_TRUE(run);
  auto a = db->claim_address(*run, "127.3.0.1", "a", 60000);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(*a);
  auto b = db->claim_address(*run, "127.3.0.1", "b", 60000);
  ASSERT_TRUE(b);
  EXPECT_FALSE(*b);
  ASSERT_OK(db->release_address(*run, "127.3.0.1", "b"));  // not b's: no effect
  b = db->claim_address(*run, "127.3.0.1", "b", 60000);
  ASSERT_TRUE(b);
  EXPECT_FALSE(*b);
  ASSERT_OK(db->release_address(*run, "127.3.0.1", "a"));
  b = db->claim_address(*run, "127.3.0.1", "b", 60000);
  ASSERT_TRUE(b);
  EXPECT_TRUE(*b);
}

// Three worker processes claim and store at once: every host gets exactly
// one probe, and no worker waits on another's claim (SKIP LOCKED).
TEST_P(StoreConformance, ConcurrentWorkersProbeEveryHostOnce) {
  auto path = location();
  auto hosts = make_hosts(600);
  std::int64_t run_id = 0;
  {
    auto db = open_or_die(path);
    ASSERT_TRUE(db);
    auto run = db->create_run(sample_run());
    ASSERT_TRUE(run);
    run_id = *run;
    ASSERT_OK(db->add_hosts(run_id, hosts));
  }
  std::vector<pid_t> pids;
  for (int w = 0; w < 3; ++w) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto db = open_store(path, OpenMode::create);
      if (!db) ::_exit(3);
      std::string owner = "w" + std::to_string(w);
      for (;;) {
        auto got = (*db)->claim_hosts(run_id, owner, 25, 60000);
        if (!got) ::_exit(4);
        if (got->empty()) break;
        std::vector<Probe> batch;
        for (const auto& h : *got) batch.push_back(sample_probe(h.id, h.ip, "OK", 0, owner));
        auto discarded = (*db)->add_leased_probes(run_id, owner, batch);
        if (!discarded || !discarded->empty()) ::_exit(5);
      }
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  for (auto pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto db = open_or_die(path);
  ASSERT_TRUE(db);
  auto ids = db->probed_host_ids(run_id);
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->size(), hosts.size());
  std::set<std::int64_t> unique(ids->begin(), ids->end());
  EXPECT_EQ(unique.size(), hosts.size());
  auto left = db->unprobed_count(run_id);
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, 0);
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& p) {
  return p.param;
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::Values("sqlite", "postgresql"),
                         backend_name);

}  // namespace
}  // namespace relayscope::store
