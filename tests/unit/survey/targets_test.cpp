#include "survey/targets.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace relayscope::survey {
namespace {

Targets read(const std::string& text, TargetFormat f = TargetFormat::addresses) {
  std::istringstream in(text);
  return read_targets(in, f);
}

TEST(Targets, CountsNamesAndUniqueLowerCasedDomains) {
  auto t = read("a@Example.TEST\nb@example.test\nc@other.test\n");
  EXPECT_EQ(t.names, 3);
  ASSERT_EQ(t.domains.size(), 2u);
  EXPECT_EQ(t.domains["example.test"], 2);
  EXPECT_EQ(t.domains["other.test"], 1);
}

TEST(Targets, TakesTheDomainRightOfTheLastAt) {
  auto d = domain_of_address("\"odd@local\"@mail.example.test");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, "mail.example.test");
}

TEST(Targets, ConvertsIdnsToALabels) {
  auto t = read("user@bücher.example\n");
  ASSERT_EQ(t.domains.size(), 1u);
  EXPECT_EQ(t.domains.begin()->first, "xn--bcher-kva.example");
}

TEST(Targets, CountsLinesWithoutAnAddressAndGoesOn) {
  auto t = read("not an address\nx@a.test\n@\nfoo@\n");
  EXPECT_EQ(t.names, 1);
  EXPECT_EQ(t.lines_without_address, 3);
  EXPECT_EQ(t.rejected.size(), 3u);
}

TEST(Targets, SkipsBlankLinesAndComments) {
  auto t = read("\n# a comment\n   \nx@a.test\n");
  EXPECT_EQ(t.names, 1);
  EXPECT_EQ(t.lines_without_address, 0);
}

TEST(Targets, ReadsAddressesFromMboxHeaderFields) {
  auto t = read(
      "From someone@x.test Mon Jan 12 10:00:00 1998\n"
      "From: Alice <alice@one.test>\n"
      "To: bob@two.test, \"Carol\" <carol@three.test>,\n"
      "    dave@four.test\n"
      "Cc: eve@one.test\n"
      "Subject: hello\n"
      "\n");
  EXPECT_EQ(t.names, 5);
  EXPECT_EQ(t.domains.size(), 4u);
  EXPECT_EQ(t.domains["one.test"], 2);
  EXPECT_EQ(t.domains["four.test"], 1);
}

TEST(Targets, IgnoresMboxBodiesAndOtherHeaderFields) {
  auto t = read(
      "From someone@x.test Mon Jan 12 10:00:00 1998\n"
      "Message-ID: <1234@mta.relay.test>\n"
      "Reply-To: list-owner@owner.test\n"
      "Received: from a (a@b.test)\n"
      "\tby c@d.test\n"
      "To: member@one.test\n"
      "\n"
      "Write to me at someone@body.test, or\n"
      "To: forged@body.test\n"
      "\n"
      ">From somebody@quoted.test\n"
      "From other@x.test Tue Jan 13 10:00:00 1998\n"
      "From: second@two.test\n"
      "\n"
      "another@body.test\n");
  EXPECT_EQ(t.names, 2);
  EXPECT_EQ(t.lines_without_address, 0);
  ASSERT_EQ(t.domains.size(), 2u);
  EXPECT_EQ(t.domains.count("one.test"), 1u);
  EXPECT_EQ(t.domains.count("two.test"), 1u);
}

TEST(Targets, AHeaderLineInAnAddressListIsNotAName) {
  auto t = read("Message-ID: <abc@mta.test>\nx@a.test\n");
  EXPECT_EQ(t.names, 1);
  EXPECT_EQ(t.domains.count("mta.test"), 0u);
}

TEST(Targets, DomainsModeTakesDomainsAndBareIps) {
  auto t = read("Example.test.\n127.0.0.5\n::1\nbad..domain\n", TargetFormat::domains);
  EXPECT_EQ(t.domains.size(), 1u);
  EXPECT_EQ(t.domains.count("example.test"), 1u);
  ASSERT_EQ(t.ips.size(), 2u);
  EXPECT_EQ(t.ips[0], "127.0.0.5");
  EXPECT_EQ(t.lines_without_address, 1);
}

TEST(Targets, DomainsModeTakesIpv6InBracketsAndAsAddressLiterals) {
  auto t = read(
      "2001:DB8::25\n[2001:db8::26]\n[IPv6:2001:db8::27]\n[192.0.2.1]\n"
      "[IPv6:192.0.2.2]\n[2001:db8::28]:25\n",
      TargetFormat::domains);
  ASSERT_EQ(t.ips.size(), 4u);
  EXPECT_EQ(t.ips[0], "2001:db8::25");  // canonical text
  EXPECT_EQ(t.ips[1], "2001:db8::26");
  EXPECT_EQ(t.ips[2], "2001:db8::27");
  EXPECT_EQ(t.ips[3], "192.0.2.1");
  // An IPv4 address is no IPv6 literal; a port has no place (one --port a run).
  EXPECT_EQ(t.lines_without_address, 2);
}

TEST(Targets, AnEndlessLineIsCountedNotHeld) {
  std::string huge(200 * 1024, 'a');
  auto t = read(huge + "@x.test\nok@y.test\nlast@z.test");
  EXPECT_EQ(t.names, 2);  // the lines after it, the last one without a newline
  EXPECT_EQ(t.lines_without_address, 1);
  ASSERT_FALSE(t.rejected.empty());
  EXPECT_LE(t.rejected[0].size(), 200u);
}

TEST(Targets, MissingFileIsAClearError) {
  auto t = read_targets_file("/nonexistent/targets.txt", TargetFormat::addresses);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("/nonexistent/targets.txt"), std::string::npos);
}

}  // namespace
}  // namespace relayscope::survey
