// The resolver against a real unbound on loopback serving a generated .test
// zone (every MX-selection case of DESIGN.md step 2), and against a tiny
// responder for SERVFAIL, REFUSED, silence (timeout) and the scope guard.
#include "dns/resolver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "dns_peers.hpp"

namespace relayscope::dns {
namespace {

using namespace std::chrono_literals;
using testing::TinyResponder;
using testing::UnboundServer;

const std::vector<std::string> kZone = {
    // Several preferences.
    "multi.test. MX 20 mx2.multi.test.",
    "multi.test. MX 10 mx1.multi.test.",
    "multi.test. MX 30 mx3.multi.test.",
    "mx1.multi.test. A 127.0.1.1",
    "mx2.multi.test. A 127.0.1.2",
    "mx3.multi.test. A 127.0.1.3",
    // A tie at the lowest preference.
    "tie.test. MX 10 a.tie.test.",
    "tie.test. MX 10 b.tie.test.",
    "tie.test. MX 10 c.tie.test.",
    "tie.test. MX 20 d.tie.test.",
    "a.tie.test. A 127.0.2.1",
    "b.tie.test. A 127.0.2.2",
    "c.tie.test. A 127.0.2.3",
    "d.tie.test. A 127.0.2.4",
    // No MX: the domain's own A record.
    "amx.test. A 127.0.3.1",
    // Null MX (RFC 7505), with an A record that must not be used.
    "null.test. MX 0 .",
    "null.test. A 127.0.3.2",
    // Exists, but neither MX nor A.
    "nodata.test. TXT \"nothing here\"",
    // CNAME at the domain (unbound sends the CNAME alone), and an MX host
    // that is a CNAME.
    "alias.test. CNAME multi.test.",
    "calias.test. MX 10 mxc.calias.test.",
    "mxc.calias.test. CNAME mx2.multi.test.",
    // MX hosts without an address: the next preference is used.
    "noaddr.test. MX 10 gone.noaddr.test.",
    "noaddr.test. MX 20 ok.noaddr.test.",
    "ok.noaddr.test. A 127.0.4.2",
    "allnoaddr.test. MX 10 gone.allnoaddr.test.",
    // An MX target that is an IP literal.
    "literal.test. MX 10 127.0.5.1.",
    "literal.test. MX 20 real.literal.test.",
    "real.literal.test. A 127.0.5.2",
    // A host with several addresses.
    "many.test. MX 10 mx.many.test.",
    "mx.many.test. A 127.0.6.1",
    "mx.many.test. A 127.0.6.2",
    "mx.many.test. A 127.0.6.3",
    // IPv6 (--family): a host with A and AAAA, an IPv6-only fallback, an
    // IPv6-only domain.
    "dual.test. MX 10 mx.dual.test.",
    "dual.test. MX 20 mx2.dual.test.",
    "mx.dual.test. A 127.0.7.1",
    "mx.dual.test. AAAA 2001:db8::71",
    "mx2.dual.test. AAAA 2001:db8::72",
    "six.test. MX 10 mx.six.test.",
    "mx.six.test. AAAA 2001:db8::61",
    // TXT: a DNSBL-style reason of two strings, and one too big for 512-byte UDP.
    "2.0.0.127.bl.test. TXT \"listed\" \" for spam\"",
};

std::string big_txt() {
  std::string s;
  for (int i = 0; i < 4; ++i) s += std::string(200, static_cast<char>('a' + i));
  return s;
}

std::vector<std::string> zone_with_big_txt() {
  auto z = kZone;
  std::string record = "big.test. TXT";
  auto t = big_txt();
  for (std::size_t i = 0; i < t.size(); i += 200) record += " \"" + t.substr(i, 200) + "\"";
  z.push_back(record);
  return z;
}

// Runs one coroutine to completion on a fresh io_context (bounded).
template <class T>
T run(asio::io_context& io, asio::awaitable<T> task, std::chrono::seconds limit = 30s) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    result = std::move(value);
  });
  io.restart();
  io.run_for(limit);
  EXPECT_TRUE(result.has_value()) << "did not complete within " << limit.count() << " s";
  return result.value_or(T{});
}

class ResolverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new UnboundServer(zone_with_big_txt()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_->running()) << server_->error(); }

  Resolver make(ResolverConfig c = {}) {
    if (c.servers.empty()) c.servers = {server_->spec()};
    c.scope = net::ScopeGuard::loopback_only();
    auto r = Resolver::create(io_.get_executor(), std::move(c));
    EXPECT_TRUE(r) << r.error().message;
    return std::move(*r);
  }

  MailHost mail_host(Resolver& r, const std::string& domain, std::uint64_t seed = 1) {
    return run(io_, r.resolve_mail_host(domain, seed));
  }

  static UnboundServer* server_;
  asio::io_context io_;
};
UnboundServer* ResolverTest::server_ = nullptr;

TEST_F(ResolverTest, MxLookupReturnsEveryRecord) {
  auto r = make();
  auto mx = run(io_, r.mx("multi.test"));
  ASSERT_EQ(mx.status, DnsStatus::ok) << mx.detail;
  std::set<std::pair<int, std::string>> got;
  for (const auto& m : mx.records) got.emplace(m.preference, m.host);
  EXPECT_EQ(got, (std::set<std::pair<int, std::string>>{
                     {10, "mx1.multi.test"}, {20, "mx2.multi.test"}, {30, "mx3.multi.test"}}));
}

TEST_F(ResolverTest, LowestPreferenceWinsAndHigherOnesAreFallbacks) {
  auto r = make();
  auto h = mail_host(r, "multi.test");
  ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
  EXPECT_EQ(h.mx_host, "mx1.multi.test");
  EXPECT_EQ(h.preference, 10);
  EXPECT_EQ(h.ip, "127.0.1.1");
  EXPECT_EQ(h.fallback_ips, (std::vector<std::string>{"127.0.1.2", "127.0.1.3"}));
}

TEST_F(ResolverTest, FallbacksAreBoundedAndOptional) {
  ResolverConfig c;
  c.max_fallbacks = 1;
  auto r = make(c);
  EXPECT_EQ(mail_host(r, "multi.test").fallback_ips, (std::vector<std::string>{"127.0.1.2"}));
  ResolverConfig none;
  none.max_fallbacks = 0;
  auto r0 = make(none);
  EXPECT_TRUE(mail_host(r0, "multi.test").fallback_ips.empty());
}

TEST_F(ResolverTest, TieAtLowestPreferenceIsSeededAndReproducible) {
  auto r = make();
  std::map<std::string, int> chosen;
  const std::set<std::string> tied = {"a.tie.test", "b.tie.test", "c.tie.test"};
  for (std::uint64_t seed = 0; seed < 24; ++seed) {
    auto h = mail_host(r, "tie.test", seed);
    ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
    EXPECT_EQ(tied.count(h.mx_host), 1u) << h.mx_host;
    EXPECT_EQ(h.preference, 10);
    ++chosen[h.mx_host];
    auto again = mail_host(r, "tie.test", seed);  // same seed, same domain => same choice
    EXPECT_EQ(again.mx_host, h.mx_host);
    EXPECT_EQ(again.ip, h.ip);
    EXPECT_EQ(again.fallback_ips, h.fallback_ips);
    // The other tied hosts come first among the fallbacks, then preference 20.
    ASSERT_EQ(h.fallback_ips.size(), 3u);
    EXPECT_EQ(h.fallback_ips.back(), "127.0.2.4");
  }
  EXPECT_EQ(chosen.size(), 3u) << "different seeds should pick each tied host sometimes";
}

TEST_F(ResolverTest, NoMxFallsBackToTheDomainsOwnA) {
  auto r = make();
  auto h = mail_host(r, "amx.test");
  ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
  EXPECT_EQ(h.ip, "127.0.3.1");
  EXPECT_EQ(h.mx_host, "");
  EXPECT_EQ(h.preference, -1);
  EXPECT_NE(h.detail.find("RFC 5321"), std::string::npos) << h.detail;
}

TEST_F(ResolverTest, NullMxIsNotAFallbackToA) {
  auto r = make();
  auto h = mail_host(r, "null.test");
  EXPECT_EQ(h.status, DnsStatus::null_mx) << h.detail;
  EXPECT_EQ(h.ip, "");
  EXPECT_EQ(to_string(h.status), "null_mx");
}

TEST_F(ResolverTest, NxdomainIsKeptAsTheReason) {
  auto r = make();
  auto h = mail_host(r, "does-not-exist.test");
  EXPECT_EQ(h.status, DnsStatus::nxdomain) << h.detail;
  EXPECT_NE(h.detail.find("NXDOMAIN"), std::string::npos) << h.detail;
  EXPECT_EQ(run(io_, r.a("does-not-exist.test")).status, DnsStatus::nxdomain);
}

TEST_F(ResolverTest, NameWithoutMxAndAIsNodata) {
  auto r = make();
  EXPECT_EQ(run(io_, r.mx("nodata.test")).status, DnsStatus::nodata);
  auto h = mail_host(r, "nodata.test");
  EXPECT_EQ(h.status, DnsStatus::nodata) << h.detail;
  EXPECT_NE(h.detail.find("no MX and no A"), std::string::npos) << h.detail;
}

TEST_F(ResolverTest, CnameAtTheDomainIsFollowedForMx) {
  auto r = make();
  auto mx = run(io_, r.mx("alias.test"));
  ASSERT_EQ(mx.status, DnsStatus::ok) << mx.detail;
  EXPECT_EQ(mx.canonical_name, "multi.test");
  EXPECT_EQ(mx.records.size(), 3u);
  auto h = mail_host(r, "alias.test");
  ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
  EXPECT_EQ(h.mx_host, "mx1.multi.test");
  EXPECT_EQ(h.ip, "127.0.1.1");
}

TEST_F(ResolverTest, CnameOfAnMxHostIsFollowedForA) {
  auto r = make();
  auto h = mail_host(r, "calias.test");
  ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
  EXPECT_EQ(h.mx_host, "mxc.calias.test");
  EXPECT_EQ(h.ip, "127.0.1.2");
}

TEST_F(ResolverTest, MxHostWithoutAddressMovesToTheNextPreference) {
  auto r = make();
  auto h = mail_host(r, "noaddr.test");
  ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
  EXPECT_EQ(h.mx_host, "ok.noaddr.test");
  EXPECT_EQ(h.preference, 20);
  EXPECT_EQ(h.ip, "127.0.4.2");
  EXPECT_NE(h.detail.find("gone.noaddr.test"), std::string::npos) << h.detail;
}

TEST_F(ResolverTest, NoMxHostWithAnAddressIsNoAddress) {
  auto r = make();
  auto h = mail_host(r, "allnoaddr.test");
  EXPECT_EQ(h.status, DnsStatus::no_address) << h.detail;
  EXPECT_EQ(h.ip, "");
  EXPECT_NE(h.detail.find("gone.allnoaddr.test: nxdomain"), std::string::npos) << h.detail;
}

TEST_F(ResolverTest, IpLiteralMxTargetIsSkippedWithAReason) {
  auto r = make();
  auto h = mail_host(r, "literal.test");
  ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
  EXPECT_EQ(h.mx_host, "real.literal.test");
  EXPECT_EQ(h.ip, "127.0.5.2");
  EXPECT_NE(h.detail.find("127.0.5.1"), std::string::npos) << h.detail;
}

TEST_F(ResolverTest, AddressChoiceAmongSeveralIsSeeded) {
  auto r = make();
  std::set<std::string> seen;
  for (std::uint64_t seed = 0; seed < 16; ++seed) {
    auto h = mail_host(r, "many.test", seed);
    ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
    EXPECT_EQ(mail_host(r, "many.test", seed).ip, h.ip);
    seen.insert(h.ip);
  }
  EXPECT_GT(seen.size(), 1u);
  for (const auto& ip : seen) EXPECT_EQ(ip.rfind("127.0.6.", 0), 0u) << ip;
}

TEST_F(ResolverTest, AaaaLookupGivesIpv6Text) {
  auto r = make();
  auto a = run(io_, r.aaaa("mx.dual.test"));
  ASSERT_EQ(a.status, DnsStatus::ok) << a.detail;
  EXPECT_EQ(a.addresses, std::vector<std::string>{"2001:db8::71"});
  EXPECT_EQ(run(io_, r.aaaa("amx.test")).status, DnsStatus::nodata);
}

TEST_F(ResolverTest, FamilyFourIsTheDefaultAndAsksNoAaaa) {
  auto r = make();
  auto h = mail_host(r, "dual.test");
  ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
  EXPECT_EQ(h.ips, std::vector<std::string>{"127.0.7.1"});
  auto six = mail_host(r, "six.test");
  EXPECT_EQ(six.status, DnsStatus::no_address) << six.detail;
  EXPECT_NE(six.detail.find("IPv4"), std::string::npos) << six.detail;
}

TEST_F(ResolverTest, FamilySixTakesAaaaOnly) {
  ResolverConfig c;
  c.want_v4 = false;
  c.want_v6 = true;
  auto r = make(c);
  EXPECT_EQ(mail_host(r, "dual.test").ip, "2001:db8::71");
  auto six = mail_host(r, "six.test");
  ASSERT_EQ(six.status, DnsStatus::ok) << six.detail;
  EXPECT_EQ(six.ip, "2001:db8::61");
  EXPECT_EQ(mail_host(r, "amx.test").status, DnsStatus::nodata);
}

TEST_F(ResolverTest, BothFamiliesGiveEachAddressOfTheHost) {
  ResolverConfig c;
  c.want_v6 = true;
  auto r = make(c);
  auto h = mail_host(r, "dual.test");
  ASSERT_EQ(h.status, DnsStatus::ok) << h.detail;
  EXPECT_EQ(h.ip, "127.0.7.1");
  EXPECT_EQ(h.ips, (std::vector<std::string>{"127.0.7.1", "2001:db8::71"}));
  EXPECT_EQ(h.fallback_ips, std::vector<std::string>{"2001:db8::72"});
  // A host with one family only is one address.
  EXPECT_EQ(mail_host(r, "six.test").ips, std::vector<std::string>{"2001:db8::61"});
  EXPECT_EQ(mail_host(r, "amx.test").ips, std::vector<std::string>{"127.0.3.1"});
}

TEST_F(ResolverTest, IpAddressesNeedNoLookup) {
  auto r = make();
  auto h = mail_host(r, "127.0.9.9");
  EXPECT_EQ(h.status, DnsStatus::ok);
  EXPECT_EQ(h.ip, "127.0.9.9");
}

TEST_F(ResolverTest, TxtRecordsJoinTheirStrings) {
  auto r = make();
  auto t = run(io_, r.txt("2.0.0.127.bl.test"));
  ASSERT_EQ(t.status, DnsStatus::ok) << t.detail;
  EXPECT_EQ(t.texts, (std::vector<std::string>{"listed for spam"}));
  EXPECT_EQ(run(io_, r.txt("3.0.0.127.bl.test")).status, DnsStatus::nxdomain);
}

TEST_F(ResolverTest, TruncatedAnswerIsRetriedOverTcp) {
  auto r = make();
  auto t = run(io_, r.txt("big.test"));
  ASSERT_EQ(t.status, DnsStatus::ok) << t.detail;
  ASSERT_EQ(t.texts.size(), 1u);
  EXPECT_EQ(t.texts[0], big_txt());  // 800 bytes: only TCP can carry it here (no EDNS)
}

TEST_F(ResolverTest, BadNamesAreErrorsNotCrashes) {
  auto r = make();
  EXPECT_EQ(run(io_, r.mx("")).status, DnsStatus::error);
  EXPECT_EQ(run(io_, r.mx(std::string(300, 'a') + ".test")).status, DnsStatus::error);
  EXPECT_EQ(run(io_, r.mx(std::string(70, 'a') + ".test")).status, DnsStatus::error);
  EXPECT_EQ(run(io_, r.mx(std::string("a\0b.test", 8))).status, DnsStatus::error);
  EXPECT_EQ(run(io_, r.a("::1")).status, DnsStatus::error);
}

TEST_F(ResolverTest, ManyConcurrentQueriesOnOneChannelStayBounded) {
  ResolverConfig c;
  c.max_in_flight = 40;
  auto r = make(c);
  const std::vector<std::pair<std::string, std::string>> cases = {{"multi.test", "127.0.1.1"},
                                                                  {"amx.test", "127.0.3.1"},
                                                                  {"alias.test", "127.0.1.1"},
                                                                  {"noaddr.test", "127.0.4.2"},
                                                                  {"calias.test", "127.0.1.2"}};
  const int n = 600;
  int done = 0, wrong = 0;
  std::size_t max_seen = 0;
  for (int i = 0; i < n; ++i) {
    const auto& [domain, ip] = cases[static_cast<std::size_t>(i) % cases.size()];
    asio::co_spawn(
        io_,
        [&, domain = domain, ip = ip]() -> asio::awaitable<void> {
          auto h = co_await r.resolve_mail_host(domain, 7);
          max_seen = std::max(max_seen, r.in_flight());
          if (h.status != DnsStatus::ok || h.ip != ip) ++wrong;
          ++done;
        },
        asio::detached);
  }
  io_.restart();
  io_.run_for(60s);
  EXPECT_EQ(done, n);
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(max_seen, 40u);
  EXPECT_EQ(r.in_flight(), 0u);
  EXPECT_EQ(r.queued(), 0u);
}

TEST_F(ResolverTest, ConfigErrorsAreClear) {
  auto bad = [&](ResolverConfig c) {
    auto r = Resolver::create(io_.get_executor(), std::move(c));
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message;
  };
  EXPECT_NE(bad({}).find("no DNS server"), std::string::npos);
  ResolverConfig c1;
  c1.servers = {"dns.example:53"};
  EXPECT_NE(bad(c1).find("not an IP address"), std::string::npos);
  ResolverConfig c2;
  c2.servers = {server_->spec()};
  c2.tries = 0;
  EXPECT_NE(bad(c2).find("tries"), std::string::npos);
  ResolverConfig c3;
  c3.servers = {server_->spec()};
  c3.timeout = 0ms;
  EXPECT_NE(bad(c3).find("timeout"), std::string::npos);
}

// --- The tiny responder: failures, silence, scope. ---

class FailingServerTest : public ::testing::Test {
 protected:
  Resolver make(const std::string& spec, ResolverConfig c = {}) {
    c.servers = {spec};
    if (c.scope.unrestricted()) c.scope = net::ScopeGuard::loopback_only();
    auto r = Resolver::create(io_.get_executor(), std::move(c));
    EXPECT_TRUE(r) << r.error().message;
    return std::move(*r);
  }
  asio::io_context io_;
};

TEST_F(FailingServerTest, ServfailIsReported) {
  TinyResponder servfail(TinyResponder::Mode::servfail);
  auto r = make(servfail.spec());
  auto h = run(io_, r.resolve_mail_host("x.test", 1));
  EXPECT_EQ(h.status, DnsStatus::servfail) << h.detail;
  EXPECT_NE(h.detail.find("SERVFAIL"), std::string::npos) << h.detail;
  EXPECT_GE(servfail.packets(), 1);
}

TEST_F(FailingServerTest, RefusedIsReported) {
  TinyResponder refused(TinyResponder::Mode::refused);
  auto r = make(refused.spec());
  auto m = run(io_, r.mx("x.test"));
  EXPECT_EQ(m.status, DnsStatus::refused) << m.detail;
}

TEST_F(FailingServerTest, SilentServerTimesOutWithinTheBound) {
  TinyResponder silent(TinyResponder::Mode::silent);
  ResolverConfig c;
  c.timeout = 200ms;
  c.tries = 2;
  auto r = make(silent.spec(), c);
  const auto bound = max_query_time(r.config());
  EXPECT_EQ(bound, 600ms);  // 200 + 400: c-ares doubles the wait for the second round
  const auto start = std::chrono::steady_clock::now();
  auto m = run(io_, r.mx("x.test"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(m.status, DnsStatus::timeout) << m.detail;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LE(elapsed, bound + 500ms);
  EXPECT_EQ(silent.packets(), 2);  // one per try
}

TEST_F(FailingServerTest, MxHostsThatAllTimeOutReportTimeout) {
  TinyResponder mx_only(TinyResponder::Mode::mx_only);
  ResolverConfig c;
  c.timeout = 100ms;
  c.tries = 1;
  auto r = make(mx_only.spec(), c);
  auto mx = run(io_, r.mx("x.test"));
  ASSERT_EQ(mx.status, DnsStatus::ok) << mx.detail;
  ASSERT_EQ(mx.records, (std::vector<MxRecord>{{10, "mx.x.test"}}));
  auto h = run(io_, r.resolve_mail_host("x.test", 1));
  EXPECT_EQ(h.status, DnsStatus::timeout) << h.detail;
  EXPECT_NE(h.detail.find("mx.x.test"), std::string::npos) << h.detail;
}

TEST_F(FailingServerTest, OutOfScopeServerGetsNoPacket) {
  TinyResponder counter(TinyResponder::Mode::refused);
  ResolverConfig c;
  c.scope = *net::ScopeGuard::from_strings({"127.0.0.0/8"}, {"127.0.0.1/32"});
  auto r = make(counter.spec(), c);
  auto h = run(io_, r.resolve_mail_host("x.test", 1));
  EXPECT_EQ(h.status, DnsStatus::out_of_scope) << h.detail;
  EXPECT_NE(h.detail.find(counter.spec()), std::string::npos) << h.detail;
  EXPECT_EQ(run(io_, r.a("x.test")).status, DnsStatus::out_of_scope);
  EXPECT_EQ(run(io_, r.txt("x.test")).status, DnsStatus::out_of_scope);
  ResolverConfig c2;
  c2.scope = *net::ScopeGuard::from_strings({"10.0.0.0/8"});
  auto r2 = make(counter.spec(), c2);
  EXPECT_EQ(run(io_, r2.mx("x.test")).status, DnsStatus::out_of_scope);
  EXPECT_EQ(counter.packets(), 0);
  // The same server in scope does get the query: the counter works.
  auto r3 = make(counter.spec());
  EXPECT_EQ(run(io_, r3.mx("x.test")).status, DnsStatus::refused);
  EXPECT_GE(counter.packets(), 1);
}

TEST_F(FailingServerTest, DestroyingTheResolverCompletesPendingLookups) {
  TinyResponder silent(TinyResponder::Mode::silent);
  ResolverConfig c;
  c.timeout = 5000ms;
  c.tries = 3;
  std::optional<Resolver> r(make(silent.spec(), c));
  std::optional<MailHost> result;
  asio::co_spawn(io_, r->resolve_mail_host("x.test", 1), [&](std::exception_ptr e, MailHost h) {
    if (e) std::rethrow_exception(e);
    result = std::move(h);
  });
  // Let the query leave, then destroy the resolver under it.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (silent.packets() == 0 && std::chrono::steady_clock::now() < deadline)
    io_.run_one_for(50ms);
  ASSERT_EQ(silent.packets(), 1);
  const auto start = std::chrono::steady_clock::now();
  r.reset();
  io_.restart();
  io_.run_for(5s);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status, DnsStatus::error);
  EXPECT_NE(result->detail.find("shut down"), std::string::npos) << result->detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(FailingServerTest, SecondServerAnswersWhenTheFirstIsSilent) {
  TinyResponder silent(TinyResponder::Mode::silent);
  UnboundServer unbound({"two.test. A 127.0.7.1"});
  ASSERT_TRUE(unbound.running()) << unbound.error();
  ResolverConfig c;
  c.servers = {silent.spec(), unbound.spec()};
  c.timeout = 200ms;
  c.tries = 2;
  c.scope = net::ScopeGuard::loopback_only();
  auto r = Resolver::create(io_.get_executor(), c);
  ASSERT_TRUE(r) << r.error().message;
  for (int i = 0; i < 4; ++i) {
    auto a = run(io_, r->a("two.test"));
    ASSERT_EQ(a.status, DnsStatus::ok) << a.detail;
    EXPECT_EQ(a.addresses, (std::vector<std::string>{"127.0.7.1"}));
  }
}

}  // namespace
}  // namespace relayscope::dns
