#include <gtest/gtest.h>

#include "dnsbl/listing.hpp"
#include "dnsbl/zone_writer.hpp"

namespace relayscope::dnsbl {
namespace {

store::Run run(std::int64_t id, const std::string& date, bool variants_all = false) {
  store::Run r;
  r.id = id;
  r.started_at = date + "T10:00:00Z";
  r.params_json = variants_all ? R"({"variants_all": true})" : R"({"variants_all": false})";
  return r;
}

// A refusal carries its code: 5xx for the outcomes of a closed host.
store::HostRow row(const std::string& ip, const std::string& outcome,
                   std::vector<std::string> variants = {}, int code = -1) {
  store::HostRow h;
  h.ip = ip;
  h.outcome = outcome;
  h.relaying_variants = std::move(variants);
  h.code = code >= 0 ? code : (outcome == "OK" ? 250 : outcome == "CONNECT" ? 0 : 554);
  return h;
}

TEST(Listing, ListsHostsThatRelayedAndNamesTheTest) {
  ListingBuilder b;
  b.add_run(run(1, "1999-07-03"), {row("127.0.0.9", "OK"), row("127.0.0.10", "TO"),
                                   row("127.0.0.11", "TO", {"percent-hack"})});
  auto l = b.listings();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].ip, "127.0.0.9");
  EXPECT_EQ(l[0].variant, "imc");
  EXPECT_EQ(l[1].ip, "127.0.0.11");
  EXPECT_EQ(l[1].variant, "percent-hack");
  EXPECT_EQ(l[1].date, "1999-07-03");
}

TEST(Listing, ALaterRunThatFindsTheHostClosedDelistsIt) {
  ListingBuilder b;
  b.add_run(run(1, "1999-07-03"), {row("127.0.0.9", "OK"), row("127.0.0.12", "OK")});
  b.add_run(run(2, "1999-08-01"), {row("127.0.0.9", "TO"), row("127.0.0.12", "CONNECT")});
  auto l = b.listings();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].ip, "127.0.0.12");  // unreachable later: the listing stands
}

TEST(Listing, ATemporaryRefusalDoesNotDelist) {
  ListingBuilder b;
  b.add_run(run(1, "1999-07-03"), {row("127.0.0.9", "OK")});
  b.add_run(run(2, "1999-08-01"), {row("127.0.0.9", "TO", {}, 450)});
  ASSERT_EQ(b.listings().size(), 1u);
  b.add_run(run(3, "1999-09-01"), {row("127.0.0.9", "TO", {}, 554)});
  EXPECT_TRUE(b.listings().empty());
}

TEST(Listing, AHostListedForATrickIsClearedOnlyByARunThatTriedTheTricks) {
  ListingBuilder b;
  b.add_run(run(1, "1999-07-03", true), {row("127.0.0.9", "TO", {"percent-hack"})});
  b.add_run(run(2, "1999-08-01", false), {row("127.0.0.9", "TO")});
  ASSERT_EQ(b.listings().size(), 1u);  // the IMC test alone proves nothing of the trick
  EXPECT_EQ(b.listings()[0].variant, "percent-hack");
  auto cut_off = row("127.0.0.9", "TO");
  cut_off.untried_variants = {"percent-hack"};  // the server closed before it was tried
  b.add_run(run(3, "1999-09-01", true), {cut_off});
  ASSERT_EQ(b.listings().size(), 1u);
  b.add_run(run(4, "1999-10-01", true), {row("127.0.0.9", "TO")});
  EXPECT_TRUE(b.listings().empty());
}

TEST(Listing, DeliveredEvidenceListsOnlyHostsWhoseMessageArrived) {
  auto delivered = row("127.0.0.9", "OK");
  delivered.delivered = true;
  auto dropped = row("127.0.0.10", "OK");  // accepted, never arrived
  auto bounced = row("127.0.0.11", "OK");
  bounced.bounced = true;
  ListingBuilder strict(Evidence::delivered);
  strict.add_run(run(1, "1999-07-03"), {delivered, dropped, bounced});
  auto l = strict.listings();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].ip, "127.0.0.9");
  EXPECT_EQ(l[0].evidence, Evidence::delivered);
  EXPECT_NE(txt_reason(l[0]).find("delivered"), std::string::npos);
  ListingBuilder lenient;  // the IMC's criterion: accepted through DATA
  lenient.add_run(run(1, "1999-07-03"), {delivered, dropped, bounced});
  EXPECT_EQ(lenient.listings().size(), 3u);
}

TEST(ZoneWriter, RbldnsdZoneHasTheRfc5782TestEntries) {
  auto z = write_rbldnsd({{"127.0.0.9", "1999-07-03", "imc", 1}}, ZoneOptions{});
  EXPECT_NE(z.find("\n127.0.0.2 :127.0.0.2:"), std::string::npos);
  EXPECT_NE(z.find("\n!127.0.0.1\n"), std::string::npos);
  EXPECT_NE(
      z.find(
          "\n127.0.0.9 :127.0.0.2:Open relay: accepted for relaying a relayscope test message on "
          "1999-07-03 (test: imc)\n"),
      std::string::npos);
}

TEST(ZoneWriter, CountsTheIpv6ListingsAnIp4setCannotHold) {
  std::vector<Listing> l = {{"127.0.0.9", "1999-07-03", "imc", 1},
                            {"2001:db8::25", "1999-07-03", "imc", 1}};
  EXPECT_EQ(ipv6_count(l), 1u);
  auto z = write_rbldnsd(l, ZoneOptions{});
  EXPECT_NE(z.find("# 1 IPv6 listings are not in this ip4set"), std::string::npos);
  EXPECT_EQ(z.find("2001:db8::25"), std::string::npos);
  auto b = write_bind(l, ZoneOptions{});
  EXPECT_NE(
      b.find("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2 IN A 127.0.0.2"),
      std::string::npos);
}

TEST(ZoneWriter, NeverListsTheNegativeTestAddress) {
  auto z = write_rbldnsd({{"127.0.0.1", "1999-07-03", "imc", 1}}, ZoneOptions{});
  EXPECT_EQ(z.find("\n127.0.0.1 "), std::string::npos);
  auto b = write_bind({{"127.0.0.1", "1999-07-03", "imc", 1}}, ZoneOptions{});
  EXPECT_EQ(b.find("1.0.0.127 IN"), std::string::npos);
}

TEST(ZoneWriter, BindZoneUsesReversedNamesWithTxt) {
  ZoneOptions o;
  o.zone = "bl.example.test";
  auto z = write_bind({{"192.0.2.99", "2026-11-22", "bang-path", 3}}, o);
  EXPECT_NE(z.find("$ORIGIN bl.example.test.\n"), std::string::npos);
  // The in-zone name server has its address, or named refuses the zone.
  EXPECT_NE(z.find("@ IN NS ns.bl.example.test.\n"), std::string::npos);
  EXPECT_NE(z.find("ns.bl.example.test. IN A 127.0.0.1\n"), std::string::npos);
  EXPECT_NE(z.find("99.2.0.192 IN A 127.0.0.2\n"), std::string::npos);
  EXPECT_NE(
      z.find("99.2.0.192 IN TXT \"Open relay: accepted for relaying a relayscope test message on "
             "2026-11-22 (test: bang-path)\"\n"),
      std::string::npos);
  EXPECT_NE(z.find("2.0.0.127 IN A 127.0.0.2\n"), std::string::npos);
}

TEST(ZoneWriter, BindZoneWithIpv6ListingsHasTheIpv6TestEntry) {
  // RFC 5782 5: ::FFFF:7F00:2 listed (in nibbles), ::FFFF:7F00:1 never.
  const std::string test6 = "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0";
  auto with6 = write_bind({{"2001:db8::25", "2026-11-30", "imc", 1}}, ZoneOptions{});
  EXPECT_NE(with6.find(test6 + " IN A 127.0.0.2\n"), std::string::npos) << with6;
  EXPECT_NE(with6.find("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2 IN TXT"),
            std::string::npos);
  EXPECT_EQ(with6.find("1.0.0.0.0.0.f.7.f.f.f.f"), std::string::npos);
  auto only4 = write_bind({{"192.0.2.99", "2026-11-30", "imc", 1}}, ZoneOptions{});
  EXPECT_EQ(only4.find(test6), std::string::npos);
}

TEST(ZoneWriter, ReversesIpv6IntoNibbles) {
  EXPECT_EQ(reversed_name("2001:db8::1"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
  EXPECT_EQ(reversed_name("192.0.2.1"), "1.2.0.192");
}

}  // namespace
}  // namespace relayscope::dnsbl
