// The From: address extractor: display names, comments, quoted local parts,
// groups, folding, several mailboxes; fails closed on missing or doubled
// fields and on garbage.
#include "smtp/from_header.hpp"

#include <gtest/gtest.h>

namespace relayscope::smtp {
namespace {

std::vector<std::string> addrs(const std::string& message) {
  auto r = from_header_addresses(message);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message) << "\n" << message;
  return r ? *r : std::vector<std::string>{};
}

using V = std::vector<std::string>;

TEST(FromHeader, PlainForms) {
  EXPECT_EQ(addrs("From: alice@Example.TEST\r\nTo: x@y\r\n\r\nbody"), V{"alice@example.test"});
  EXPECT_EQ(addrs("from: Alice Liddell <alice@example.test>\r\n\r\n"), V{"alice@example.test"});
  EXPECT_EQ(addrs("FROM:\"Liddell, Alice\" <alice@example.test>\n\n"), V{"alice@example.test"});
  EXPECT_EQ(addrs("From: alice@example.test (Alice, of <Wonderland>)\r\n\r\n"),
            V{"alice@example.test"});
  EXPECT_EQ(addrs("From: =?utf-8?q?Al=C3=AFce?= <alice@example.test>\r\n\r\n"),
            V{"alice@example.test"});
}

TEST(FromHeader, ListsGroupsAndFolding) {
  EXPECT_EQ(addrs("Subject: x\r\nFrom: a@x.test,\r\n b@y.test, \"C\" <c@z.test>\r\n\r\n"),
            (V{"a@x.test", "b@y.test", "c@z.test"}));
  EXPECT_EQ(addrs("From: Team: a@x.test, B <b@x.test>;\r\n\r\n"), (V{"a@x.test", "b@x.test"}));
  EXPECT_EQ(addrs("From: <@route.test:alice@example.test>\r\n\r\n"), V{"alice@example.test"});
}

TEST(FromHeader, QuotedLocalParts) {
  EXPECT_EQ(addrs("From: \"alice\"@example.test\r\n\r\n"), V{"alice@example.test"});
  // A quoted local part that is not an atom stays quoted: it matches no
  // login's address, which is the safe side.
  EXPECT_EQ(addrs("From: \"al ice\"@example.test\r\n\r\n"), V{"\"al ice\"@example.test"});
  EXPECT_EQ(addrs("From: <\"a@b\"@example.test>\r\n\r\n"), V{"\"a@b\"@example.test"});
}

TEST(FromHeader, OnlyTheHeaderSectionCounts) {
  EXPECT_EQ(addrs("From: a@x.test\r\n\r\nFrom: b@y.test\r\n"), V{"a@x.test"});
  auto r = from_header_addresses("To: a@x.test\r\n\r\nFrom: b@y.test\r\n");
  EXPECT_FALSE(r);
}

TEST(FromHeader, FailsClosed) {
  for (const char* bad : {
           "To: a@x.test\r\n\r\n",                      // none
           "From: a@x.test\r\nFrom: b@y.test\r\n\r\n",  // two fields
           "From:\r\n\r\n",                             // empty
           "From: alice\r\n\r\n",                       // no domain
           "From: <>\r\n\r\n",                          // null
           "From: A <a@x.test> <b@y.test>\r\n\r\n",     // two angles
           "From: A <a@x.test\r\n\r\n",                 // unterminated
           "From: (comment a@x.test\r\n\r\n",           // unterminated comment
           "From: \"a@x.test\r\n\r\n",                  // unterminated quote
           "From: a@x.test>\r\n\r\n",                   // stray >
           "From: G: a@x.test\r\n\r\n",                 // unterminated group
           "From: a..b@x.test\r\n\r\n",                 // bad dot-atom
           "From: a@x..test\r\n\r\n",                   // bad domain
           " folded first\r\nFrom: a@x.test\r\n\r\n",   // continuation first
           "From: \"a\x01\"@x.test\r\n\r\n",            // control byte
           "From: caf\xc3\xa9@x.test\r\n\r\n",          // not ASCII (no SMTPUTF8)
       }) {
    EXPECT_FALSE(from_header_addresses(bad)) << bad;
  }
  std::string many = "From: ";
  for (int i = 0; i < 200; ++i) many += "a" + std::to_string(i) + "@x.test, ";
  many += "z@x.test\r\n\r\n";
  EXPECT_FALSE(from_header_addresses(many));
  EXPECT_FALSE(
      from_header_addresses("X: " + std::string(1000, 'a') + "\r\nFrom: a@x.test\r\n\r\n", 500));
}

}  // namespace
}  // namespace relayscope::smtp
