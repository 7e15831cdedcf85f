// Walking raw answers: CNAME chain ends and record counts, also on
// malformed input (dns_wire.hpp).
#include "dns/dns_wire.hpp"

#include <arpa/nameser.h>
#include <gtest/gtest.h>

#include <vector>

namespace relayscope::dns {
namespace {

using Bytes = std::vector<unsigned char>;

void put16(Bytes& b, unsigned v) {
  b.push_back(static_cast<unsigned char>(v >> 8));
  b.push_back(static_cast<unsigned char>(v & 0xff));
}

void put_name(Bytes& b, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.push_back(static_cast<unsigned char>(dot - start));
    b.insert(b.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  b.push_back(0);
}

struct Rr {
  std::string owner;
  unsigned type;
  Bytes rdata;
};

Bytes answer(const std::string& qname, unsigned qtype, const std::vector<Rr>& rrs) {
  Bytes b;
  put16(b, 0x1234);
  put16(b, 0x8180);
  put16(b, 1);
  put16(b, static_cast<unsigned>(rrs.size()));
  put16(b, 0);
  put16(b, 0);
  put_name(b, qname);
  put16(b, qtype);
  put16(b, ns_c_in);
  for (const auto& rr : rrs) {
    put_name(b, rr.owner);
    put16(b, rr.type);
    put16(b, ns_c_in);
    put16(b, 0);
    put16(b, 60);
    put16(b, static_cast<unsigned>(rr.rdata.size()));
    b.insert(b.end(), rr.rdata.begin(), rr.rdata.end());
  }
  return b;
}

Bytes name_rdata(const std::string& n) {
  Bytes b;
  put_name(b, n);
  return b;
}

Bytes mx_rdata(unsigned pref, const std::string& n) {
  Bytes b;
  put16(b, pref);
  put_name(b, n);
  return b;
}

TEST(DnsWire, CnameAloneGivesItsTarget) {
  auto b = answer("alias.test", ns_t_mx, {{"alias.test", ns_t_cname, name_rdata("A.Test")}});
  EXPECT_EQ(cname_chain_end(b.data(), b.size(), "ALIAS.test."), "a.test");
  EXPECT_EQ(count_answer_records(b.data(), b.size(), ns_t_mx), 0u);
  EXPECT_EQ(count_answer_records(b.data(), b.size(), ns_t_cname), 1u);
}

TEST(DnsWire, FollowsChainsInAnyOrder) {
  auto b = answer("x.test", ns_t_mx,
                  {{"y.test", ns_t_cname, name_rdata("z.test")},
                   {"x.test", ns_t_cname, name_rdata("y.test")},
                   {"z.test", ns_t_mx, mx_rdata(10, "mx.z.test")}});
  EXPECT_EQ(cname_chain_end(b.data(), b.size(), "x.test"), "z.test");
  EXPECT_EQ(count_answer_records(b.data(), b.size(), ns_t_mx), 1u);
}

TEST(DnsWire, LoopsAndUnrelatedCnamesStop) {
  auto loop = answer(
      "x.test", ns_t_a,
      {{"x.test", ns_t_cname, name_rdata("y.test")}, {"y.test", ns_t_cname, name_rdata("x.test")}});
  auto end = cname_chain_end(loop.data(), loop.size(), "x.test");
  EXPECT_TRUE(end == "x.test" || end == "y.test");
  auto other = answer("x.test", ns_t_a, {{"other.test", ns_t_cname, name_rdata("y.test")}});
  EXPECT_EQ(cname_chain_end(other.data(), other.size(), "x.test"), "x.test");
}

// Found by fuzz_dns_wire: a CNAME whose target is the root ended the chain
// at an empty name, which the resolver would then have asked for MX.
TEST(DnsWire, ACnameToTheRootIsIgnored) {
  auto b = answer("x.test", ns_t_mx, {{"x.test", ns_t_cname, name_rdata("")}});
  EXPECT_EQ(cname_chain_end(b.data(), b.size(), "x.test"), "x.test");
  auto c = answer(
      "x.test", ns_t_mx,
      {{"x.test", ns_t_cname, name_rdata("y.test")}, {"y.test", ns_t_cname, name_rdata("")}});
  EXPECT_EQ(cname_chain_end(c.data(), c.size(), "x.test"), "y.test");
}

TEST(DnsWire, MalformedInputIsHarmless) {
  auto b = answer("alias.test", ns_t_mx, {{"alias.test", ns_t_cname, name_rdata("a.test")}});
  for (std::size_t cut = 0; cut < b.size(); ++cut) {
    Bytes t(b.begin(), b.begin() + static_cast<long>(cut));
    auto end = cname_chain_end(t.data(), t.size(), "alias.test");
    EXPECT_TRUE(end == "alias.test" || end == "a.test");
    EXPECT_LE(count_answer_records(t.data(), t.size(), ns_t_cname), 1u);
  }
  EXPECT_EQ(cname_chain_end(nullptr, 0, "q.test."), "q.test");
  Bytes lies = b;
  lies[7] = 200;  // ancount says 200 records
  EXPECT_EQ(count_answer_records(lies.data(), lies.size(), ns_t_cname), 1u);
}

}  // namespace
}  // namespace relayscope::dns
