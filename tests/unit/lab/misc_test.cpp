// Behaviour table, names file, DSN and ledger: the lab's small pure parts.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "lab/behaviour.hpp"
#include "lab/dsn.hpp"
#include "lab/ledger.hpp"
#include "lab/names.hpp"
#include "lab/plan.hpp"
#include "lab/profile.hpp"
#include "lab/truth.hpp"

namespace relayscope::lab {
namespace {

TEST(Behaviours, TableIsInEnumOrderAndNamesRoundTrip) {
  std::size_t i = 0;
  for (const auto& b : all_behaviours()) {
    EXPECT_EQ(static_cast<std::size_t>(b.behaviour), i++) << b.name;
    EXPECT_EQ(parse_behaviour(b.name), b.behaviour);
    EXPECT_TRUE(is_outcome(b.outcome)) << b.name;
    EXPECT_EQ(is_trick(b.behaviour), !trick_variants(b.behaviour).empty()) << b.name;
  }
  EXPECT_FALSE(parse_behaviour("nope"));
  EXPECT_FALSE(has_listener(Behaviour::refused));
}

TEST(NamesFile, CountsMatchThePlanWithJunkAndHeavyTail) {
  auto profile =
      find_profile("imc-1999-07", {std::string(RELAYSCOPE_SOURCE_DIR) + "/data/profiles"});
  ASSERT_TRUE(profile);
  PlanOptions o;
  o.domains = 300;
  auto plan = make_plan(*profile, o);
  ASSERT_TRUE(plan);
  auto lines = names_lines(*plan);
  EXPECT_EQ(static_cast<std::int64_t>(lines.size()), plan->funnel.names + plan->funnel.junk_lines);
  std::int64_t addresses = 0, junk = 0;
  std::set<std::string> unique_lines;
  std::map<std::string, int> per_domain;
  for (const auto& l : lines) {
    auto at = l.find('@');
    if (at == std::string::npos) {
      ++junk;
      continue;
    }
    ++addresses;
    unique_lines.insert(l);
    std::string d = l.substr(at + 1);
    for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ++per_domain[d];
  }
  EXPECT_EQ(addresses, plan->funnel.names);
  EXPECT_EQ(junk, plan->funnel.junk_lines);
  EXPECT_EQ(static_cast<std::int64_t>(per_domain.size()), plan->funnel.unique_domains);
  EXPECT_EQ(static_cast<std::int64_t>(unique_lines.size()), addresses);  // no duplicates
  int most = 0;
  for (const auto& [d, n] : per_domain) most = std::max(most, n);
  EXPECT_GT(most, 20);
  EXPECT_EQ(names_lines(*plan), lines);  // reproducible
}

TEST(Dsn, IsAMultipartReportThatCarriesTheOriginal) {
  DsnFields f;
  f.reporting_mta = "mx.d1.test";
  f.postmaster = "MAILER-DAEMON@mx.d1.test";
  f.original_sender = "probe+TOKEN123@collector.test";
  f.original_recipient = "relay-test+TOKEN123@collector.test";
  f.final_recipient = f.original_recipient;
  f.original_message = "Message-ID: <TOKEN123@x>\r\nSubject: Relay test\r\n\r\nbody TOKEN123\r\n";
  f.boundary = "B0UND/mx.d1.test";
  f.message_id = "<1.dsn@mx.d1.test>";
  f.when = 930960000;
  auto m = build_dsn(f);
  EXPECT_NE(m.find("Content-Type: multipart/report; report-type=delivery-status;"),
            std::string::npos);
  EXPECT_NE(m.find("boundary=\"B0UND/mx.d1.test\""), std::string::npos);
  EXPECT_NE(m.find("Content-Type: message/delivery-status"), std::string::npos);
  EXPECT_NE(m.find("Final-Recipient: rfc822; relay-test+TOKEN123@collector.test"),
            std::string::npos);
  EXPECT_NE(m.find("Action: failed"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: message/rfc822\r\n\r\nMessage-ID: <TOKEN123@x>"),
            std::string::npos);
  EXPECT_NE(m.find("body TOKEN123"), std::string::npos);
  EXPECT_TRUE(m.ends_with("--B0UND/mx.d1.test--\r\n"));
  EXPECT_EQ(m.find("\n\n"), std::string::npos);  // CRLF throughout
  EXPECT_NE(m.find("Date: Sat, 03 Jul 1999 00:00:00 +0000"), std::string::npos);
  // A large original comes back as its headers only, token included.
  f.max_returned = 10;
  auto h = build_dsn(f);
  EXPECT_NE(h.find("text/rfc822-headers\r\n\r\nMessage-ID: <TOKEN123@x>"), std::string::npos);
  EXPECT_EQ(h.find("body TOKEN123"), std::string::npos);
}

TEST(Ledger, CountsPerHostAndTotalsAndTokens) {
  Ledger l;
  l.record(3, {EventKind::delivered, "tok", "trick_bang_path", "a@b", "", 1});
  l.record(3, {EventKind::delivered, "tok2", "", "a@b", "", 2});
  l.record(5, {EventKind::bounced, "tok3", "", "a@b", "", 3});
  l.record(6, {EventKind::dropped, "", "", "a@b", "", 4});
  auto t = l.totals();
  EXPECT_EQ(t.events["delivered"], 2);
  EXPECT_EQ(t.hosts_delivered, 1);
  EXPECT_EQ(t.hosts_bounced, 1);
  EXPECT_EQ(t.hosts_dropped, 1);
  EXPECT_EQ(l.count(EventKind::delivered), 2u);
  for (int i = 0; i < 100; ++i) l.record(9, {EventKind::accepted, "", "", "", "", i});
  EXPECT_EQ(l.snapshot()[9].recent.size(), Ledger::max_recent);
  EXPECT_EQ(l.snapshot()[9].counts[EventKind::accepted], 100u);
  EXPECT_EQ(token_of("probe+abc123@collector.test"), "abc123");
  EXPECT_EQ(token_of("probe@collector.test"), "");
  EXPECT_EQ(token_of("probe+x"), "x");
}

TEST(Truth, ListsEveryHostWithItsExpectedOutcome) {
  auto profile = find_profile("modern", {std::string(RELAYSCOPE_SOURCE_DIR) + "/data/profiles"});
  ASSERT_TRUE(profile);
  PlanOptions o;
  o.domains = 50;
  auto plan = make_plan(*profile, o);
  ASSERT_TRUE(plan);
  Ledger l;
  l.record(0, {EventKind::delivered, "tok", "", "a@b", "ok", 1});
  auto text =
      truth_json({"modern", 1, "127.0.0.1:5353", 2525, 2525}, *plan, l.snapshot(), l.totals());
  EXPECT_NE(text.find("\"expected_outcome\""), std::string::npos);
  EXPECT_NE(text.find("\"ip\": \"127.1.0.1\""), std::string::npos);
  EXPECT_NE(text.find("\"token\": \"tok\""), std::string::npos);
}

}  // namespace
}  // namespace relayscope::lab
