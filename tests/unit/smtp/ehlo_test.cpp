// EHLO keyword parsing: SIZE, AUTH (both forms), STARTTLS, PIPELINING, and
// malformed lines skipped.
#include "smtp/ehlo.hpp"

#include <gtest/gtest.h>

namespace relayscope::smtp {
namespace {

EhloInfo ehlo(std::string_view text) {
  auto r = parse_reply(text);
  EXPECT_TRUE(r) << r.error().message;
  return r ? parse_ehlo(*r) : EhloInfo{};
}

TEST(Ehlo, TypicalPostfix) {
  auto info = ehlo(
      "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n"
      "250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n"
      "250-8BITMIME\r\n250 DSN\r\n");
  EXPECT_EQ(info.domain, "mx.example.test");
  EXPECT_TRUE(info.pipelining());
  EXPECT_TRUE(info.starttls());
  EXPECT_EQ(info.size_limit(), 10240000u);
  EXPECT_EQ(info.auth_mechanisms(), (std::vector<std::string>{"PLAIN", "LOGIN"}));
  EXPECT_TRUE(info.has("dsn"));
  EXPECT_TRUE(info.has("8bitmime"));
  EXPECT_FALSE(info.has("SMTPUTF8"));
  EXPECT_EQ(info.extensions.size(), 9u);
}

TEST(Ehlo, KeywordsAreUpperCasedParamsKeptAsSent) {
  auto info = ehlo("250-host says hi\r\n250-starttls\r\n250 auth cram-md5 Plain\r\n");
  EXPECT_EQ(info.domain, "host");
  ASSERT_NE(info.find("AUTH"), nullptr);
  EXPECT_EQ(info.find("auth")->keyword, "AUTH");
  EXPECT_EQ(info.find("auth")->params, (std::vector<std::string>{"cram-md5", "Plain"}));
  EXPECT_EQ(info.auth_mechanisms(), (std::vector<std::string>{"CRAM-MD5", "PLAIN"}));
  EXPECT_TRUE(info.starttls());
}

TEST(Ehlo, LegacyAuthEquals) {
  auto info = ehlo("250-host\r\n250-AUTH=LOGIN PLAIN\r\n250 AUTH LOGIN CRAM-MD5\r\n");
  EXPECT_EQ(info.auth_mechanisms(), (std::vector<std::string>{"LOGIN", "PLAIN", "CRAM-MD5"}));
  auto only_legacy = ehlo("250-host\r\n250 AUTH=LOGIN\r\n");
  EXPECT_EQ(only_legacy.auth_mechanisms(), (std::vector<std::string>{"LOGIN"}));
  auto empty_legacy = ehlo("250-host\r\n250 AUTH=\r\n");
  EXPECT_TRUE(empty_legacy.has("AUTH"));
  EXPECT_TRUE(empty_legacy.auth_mechanisms().empty());
}

TEST(Ehlo, SizeForms) {
  EXPECT_EQ(ehlo("250-h\r\n250 SIZE\r\n").size_limit(), std::nullopt);
  EXPECT_TRUE(ehlo("250-h\r\n250 SIZE\r\n").has("SIZE"));
  EXPECT_EQ(ehlo("250-h\r\n250 SIZE 0\r\n").size_limit(), std::nullopt);
  EXPECT_EQ(ehlo("250-h\r\n250 SIZE abc\r\n").size_limit(), std::nullopt);
  EXPECT_EQ(ehlo("250-h\r\n250 SIZE 12x\r\n").size_limit(), std::nullopt);
  EXPECT_EQ(ehlo("250-h\r\n250 SIZE -1\r\n").size_limit(), std::nullopt);
  EXPECT_EQ(ehlo("250-h\r\n250 SIZE 99999999999999999999999\r\n").size_limit(), std::nullopt);
  EXPECT_EQ(ehlo("250-h\r\n250 SIZE 18446744073709551615\r\n").size_limit(),
            18446744073709551615ull);
  EXPECT_EQ(ehlo("250 h\r\n").size_limit(), std::nullopt);
}

TEST(Ehlo, MalformedLinesSkipped) {
  auto info = ehlo("250-h\r\n250-\r\n250-  \r\n250--BAD\r\n250-x_y\r\n250-=\r\n250 PIPELINING\r\n");
  ASSERT_EQ(info.extensions.size(), 1u);
  EXPECT_EQ(info.extensions[0].keyword, "PIPELINING");
}

TEST(Ehlo, HeloStyleSingleLine) {
  auto info = ehlo("250 mx.example.test\r\n");
  EXPECT_EQ(info.domain, "mx.example.test");
  EXPECT_TRUE(info.extensions.empty());
  EXPECT_FALSE(info.pipelining());
}

TEST(Ehlo, EmptyReply) {
  Reply r;
  r.code = 250;
  auto info = parse_ehlo(r);
  EXPECT_EQ(info.domain, "");
  EXPECT_TRUE(info.extensions.empty());
}

TEST(Ehlo, TabsAndSpacesTolerated) {
  auto info = ehlo("250-h\r\n250 AUTH\tPLAIN  LOGIN \r\n");
  EXPECT_EQ(info.auth_mechanisms(), (std::vector<std::string>{"PLAIN", "LOGIN"}));
}

}  // namespace
}  // namespace relayscope::smtp
