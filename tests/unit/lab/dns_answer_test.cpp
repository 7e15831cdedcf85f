// The zone built from a plan and the DNS answers to it, in memory: queries
// are made and answers read with ldns, as a resolver would; plus garbage in
// (fuzz-style) that must never crash or hang.
#include "lab/dns_answer.hpp"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <memory>
#include <random>

#include "lab/plan.hpp"
#include "lab/zone.hpp"

namespace relayscope::lab {
namespace {

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktDeleter>;

std::vector<std::uint8_t> query(const std::string& name, ldns_rr_type type, std::uint16_t id = 77,
                                bool edns = false) {
  ldns_pkt* q = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&q, name.c_str(), type, LDNS_RR_CLASS_IN, LDNS_RD),
            LDNS_STATUS_OK);
  ldns_pkt_set_id(q, id);
  if (edns) ldns_pkt_set_edns_udp_size(q, 4096);
  std::uint8_t* buf = nullptr;
  std::size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&buf, q, &size), LDNS_STATUS_OK);
  std::vector<std::uint8_t> out(buf, buf + size);
  std::free(buf);
  ldns_pkt_free(q);
  return out;
}

Pkt parse(const std::optional<std::vector<std::uint8_t>>& wire) {
  EXPECT_TRUE(wire.has_value());
  if (!wire) return nullptr;
  ldns_pkt* p = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&p, wire->data(), wire->size()), LDNS_STATUS_OK);
  return Pkt(p);
}

std::vector<std::string> answers(const ldns_pkt* p, ldns_rr_type type) {
  std::vector<std::string> out;
  auto* list = ldns_pkt_answer(p);
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    auto* rr = ldns_rr_list_rr(list, i);
    if (ldns_rr_get_type(rr) != type) continue;
    std::string rd;
    for (std::size_t k = 0; k < ldns_rr_rd_count(rr); ++k) {
      char* s = ldns_rdf2str(ldns_rr_rdf(rr, k));
      rd += (k ? " " : "") + std::string(s);
      std::free(s);
    }
    out.push_back(rd);
  }
  return out;
}

// A hand-made plan: one domain per resolution style and per failure.
LabPlan small_plan() {
  LabPlan plan;
  plan.seed = 1;
  auto add_resolved = [&](const std::string& name, Resolution r) {
    PlannedHost h;
    h.ip = (127u << 24) | (1u << 16) | static_cast<std::uint32_t>(plan.hosts.size() + 1);
    h.domain = static_cast<std::uint32_t>(plan.domains.size());
    h.resolution = r;
    if (r == Resolution::multi_mx) h.backup_ip = (127u << 24) | (2u << 16) | 1u;
    plan.domains.push_back(
        {name, true, Unresolved::nxdomain, static_cast<std::int64_t>(plan.hosts.size()), 1});
    plan.hosts.push_back(h);
  };
  auto add_failed = [&](const std::string& name, Unresolved u) {
    plan.domains.push_back({name, false, u, -1, 1});
  };
  add_resolved("mx.test.example.test", Resolution::mx);  // 127.1.0.1
  add_resolved("aonly.test", Resolution::a_only);        // 127.1.0.2
  add_resolved("alias.test", Resolution::cname);         // 127.1.0.3
  add_resolved("multi.test", Resolution::multi_mx);      // 127.1.0.4
  add_resolved("equal.test", Resolution::equal_pref);    // 127.1.0.5
  add_failed("gone.test", Unresolved::nxdomain);
  add_failed("nodata.test", Unresolved::nodata);
  add_failed("broken.test", Unresolved::servfail);
  add_failed("silent.test", Unresolved::timeout);
  add_failed("nullmx.test", Unresolved::null_mx);
  add_failed("noaddr.test", Unresolved::no_address);
  return plan;
}

class DnsAnswer : public ::testing::Test {
 protected:
  Zone zone = build_zone(small_plan(), "127.0.0.1");
  Pkt ask(const std::string& name, ldns_rr_type type, bool tcp = false) {
    return parse(answer_query(zone, query(name, type), tcp));
  }
};

TEST_F(DnsAnswer, MxAndAddressAuthoritativeWithTheQuestionEchoed) {
  auto p = ask("mx.test.example.test.", LDNS_RR_TYPE_MX);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_id(p.get()), 77);
  EXPECT_TRUE(ldns_pkt_qr(p.get()));
  EXPECT_TRUE(ldns_pkt_aa(p.get()));
  EXPECT_TRUE(ldns_pkt_rd(p.get()));
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  ASSERT_EQ(ldns_pkt_qdcount(p.get()), 1);
  char* q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p.get()), 0)));
  EXPECT_STREQ(q, "mx.test.example.test.");
  std::free(q);
  EXPECT_EQ(answers(p.get(), LDNS_RR_TYPE_MX),
            (std::vector<std::string>{"10 mx.mx.test.example.test."}));
  auto a = ask("MX.mx.test.EXAMPLE.test.", LDNS_RR_TYPE_A);  // case does not matter
  EXPECT_EQ(answers(a.get(), LDNS_RR_TYPE_A), (std::vector<std::string>{"127.1.0.1"}));
}

TEST_F(DnsAnswer, NoMxButAnAddressIsNodataForMx) {
  auto p = ask("aonly.test.", LDNS_RR_TYPE_MX);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  EXPECT_EQ(ldns_pkt_nscount(p.get()), 1);  // the SOA, for negative caching
  EXPECT_EQ(answers(ask("aonly.test.", LDNS_RR_TYPE_A).get(), LDNS_RR_TYPE_A),
            (std::vector<std::string>{"127.1.0.2"}));
}

TEST_F(DnsAnswer, CnameIsFollowedInsideTheZone) {
  auto p = ask("alias.test.", LDNS_RR_TYPE_MX);
  EXPECT_EQ(answers(p.get(), LDNS_RR_TYPE_CNAME), (std::vector<std::string>{"real.alias.test."}));
  EXPECT_EQ(answers(p.get(), LDNS_RR_TYPE_MX), (std::vector<std::string>{"10 mx.alias.test."}));
}

TEST_F(DnsAnswer, MultiAndEqualPreferenceMx) {
  auto m = answers(ask("multi.test.", LDNS_RR_TYPE_MX).get(), LDNS_RR_TYPE_MX);
  EXPECT_EQ(m, (std::vector<std::string>{"10 mx.multi.test.", "20 mx2.multi.test."}));
  EXPECT_EQ(answers(ask("mx2.multi.test.", LDNS_RR_TYPE_A).get(), LDNS_RR_TYPE_A),
            (std::vector<std::string>{"127.2.0.1"}));
  auto e = answers(ask("equal.test.", LDNS_RR_TYPE_MX).get(), LDNS_RR_TYPE_MX);
  EXPECT_EQ(e.size(), 2u);
}

TEST_F(DnsAnswer, FailureCases) {
  auto nx = ask("gone.test.", LDNS_RR_TYPE_MX);
  EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(ldns_pkt_aa(nx.get()));
  EXPECT_EQ(ldns_pkt_nscount(nx.get()), 1);
  auto nd = ask("nodata.test.", LDNS_RR_TYPE_MX);
  EXPECT_EQ(ldns_pkt_get_rcode(nd.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(nd.get()), 0);
  EXPECT_EQ(ldns_pkt_ancount(ask("nodata.test.", LDNS_RR_TYPE_A).get()), 0);
  EXPECT_EQ(ldns_pkt_get_rcode(ask("broken.test.", LDNS_RR_TYPE_MX).get()), LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(ldns_pkt_get_rcode(ask("broken.test.", LDNS_RR_TYPE_A).get()), LDNS_RCODE_SERVFAIL);
  EXPECT_FALSE(answer_query(zone, query("silent.test.", LDNS_RR_TYPE_MX), false).has_value());
  EXPECT_FALSE(answer_query(zone, query("silent.test.", LDNS_RR_TYPE_A), true).has_value());
  EXPECT_EQ(answers(ask("nullmx.test.", LDNS_RR_TYPE_MX).get(), LDNS_RR_TYPE_MX),
            (std::vector<std::string>{"0 ."}));
  EXPECT_EQ(answers(ask("noaddr.test.", LDNS_RR_TYPE_MX).get(), LDNS_RR_TYPE_MX),
            (std::vector<std::string>{"10 mx.noaddr.test."}));
  auto noaddr = ask("mx.noaddr.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(noaddr.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(noaddr.get()), 0);
}

TEST_F(DnsAnswer, OutsideTheZoneIsRefusedAndNotAuthoritative) {
  auto p = ask("example.com.", LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(ldns_pkt_aa(p.get()));
}

TEST_F(DnsAnswer, ApexHasSoaAndNs) {
  EXPECT_EQ(answers(ask("test.", LDNS_RR_TYPE_NS).get(), LDNS_RR_TYPE_NS),
            (std::vector<std::string>{"ns.test."}));
  EXPECT_EQ(answers(ask("ns.test.", LDNS_RR_TYPE_A).get(), LDNS_RR_TYPE_A),
            (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(answers(ask("test.", LDNS_RR_TYPE_SOA).get(), LDNS_RR_TYPE_SOA).size(), 1u);
}

TEST_F(DnsAnswer, BigAnswersAreTruncatedOverUdpAndWholeOverTcp) {
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(zone.add_text("big.test TXT \"" + std::string(40, 'a' + i % 26) + "\""));
  }
  auto udp = ask("big.test.", LDNS_RR_TYPE_TXT);
  EXPECT_TRUE(ldns_pkt_tc(udp.get()));
  EXPECT_EQ(ldns_pkt_ancount(udp.get()), 0);
  auto tcp = ask("big.test.", LDNS_RR_TYPE_TXT, true);
  EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
  EXPECT_EQ(ldns_pkt_ancount(tcp.get()), 60);
}

TEST_F(DnsAnswer, ExtraRecordsOverrideAndConvenienceMxTakesAnAddress) {
  ASSERT_TRUE(zone.add_text("collector.test MX 127.0.0.250"));
  EXPECT_EQ(answers(ask("collector.test.", LDNS_RR_TYPE_MX).get(), LDNS_RR_TYPE_MX),
            (std::vector<std::string>{"10 mx.collector.test."}));
  EXPECT_EQ(answers(ask("mx.collector.test.", LDNS_RR_TYPE_A).get(), LDNS_RR_TYPE_A),
            (std::vector<std::string>{"127.0.0.250"}));
  // Pointing a generated domain elsewhere replaces its MX.
  ASSERT_TRUE(zone.add_text("mx.test.example.test. 60 IN MX 5 sink.test."));
  EXPECT_EQ(answers(ask("mx.test.example.test.", LDNS_RR_TYPE_MX).get(), LDNS_RR_TYPE_MX),
            (std::vector<std::string>{"5 sink.test."}));
  // A servfail name given a record serves it.
  ASSERT_TRUE(zone.add_text("broken.test A 127.9.9.9"));
  EXPECT_EQ(ldns_pkt_get_rcode(ask("broken.test.", LDNS_RR_TYPE_A).get()), LDNS_RCODE_NOERROR);
}

TEST_F(DnsAnswer, BadExtraRecordsAreErrors) {
  for (const char* bad : {"collector.test", "x.test MX", "x.test A 999.1.1.1",
                          "x.example A 1.2.3.4", "x.test HINFO a b", "x.test WHAT 1"}) {
    EXPECT_FALSE(zone.add_text(bad)) << bad;
  }
}

TEST_F(DnsAnswer, MalformedInputIsFormerrOrIgnored) {
  // Too short for a header: ignored.
  std::vector<std::uint8_t> tiny{1, 2, 3};
  EXPECT_FALSE(answer_query(zone, tiny, false).has_value());
  // A header claiming a question that is not there: FORMERR with the same id.
  std::vector<std::uint8_t> hdr{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
  auto p = parse(answer_query(zone, hdr, false));
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_id(p.get()), 0x1234);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_FORMERR);
  // A response is never answered (no loops between servers).
  auto q = query("mx.test.example.test.", LDNS_RR_TYPE_MX);
  q[2] |= 0x80;
  EXPECT_FALSE(answer_query(zone, q, false).has_value());
}

TEST_F(DnsAnswer, GarbageNeverCrashes) {
  std::mt19937 gen(12345);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 600);
  auto good = query("alias.test.", LDNS_RR_TYPE_MX, 9, true);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> in;
    if (i % 2 == 0) {
      in.resize(static_cast<std::size_t>(len(gen)));
      for (auto& b : in) b = static_cast<std::uint8_t>(byte(gen));
    } else {
      // A real query with a few bytes flipped, cut or extended.
      in = good;
      for (int k = 0; k < 1 + i % 4; ++k) {
        in[static_cast<std::size_t>(gen() % in.size())] = static_cast<std::uint8_t>(byte(gen));
      }
      if (i % 3 == 0) in.resize(static_cast<std::size_t>(gen() % (in.size() + 8)));
    }
    auto out = answer_query(zone, in, i % 5 == 0);
    if (out) {
      EXPECT_GE(out->size(), 12u);
      EXPECT_LE(out->size(), 65535u);
    }
  }
}

TEST(ZoneBuild, PlanDomainsAllPresentOrFailingAsPlanned) {
  auto plan = small_plan();
  auto zone = build_zone(plan, "127.0.0.1");
  for (const auto& d : plan.domains) {
    auto r = lookup(zone, d.name, rrtype::MX);
    if (d.resolved || d.failure == Unresolved::null_mx || d.failure == Unresolved::no_address) {
      EXPECT_EQ(r.rcode, rcode::noerror) << d.name;
    } else if (d.failure == Unresolved::nxdomain) {
      EXPECT_EQ(r.rcode, rcode::nxdomain);
    } else if (d.failure == Unresolved::servfail) {
      EXPECT_EQ(r.rcode, rcode::servfail);
    } else if (d.failure == Unresolved::timeout) {
      EXPECT_TRUE(r.drop);
    }
  }
}

}  // namespace
}  // namespace relayscope::lab
