// Command parser: verbs, MAIL/RCPT with paths and ESMTP parameters, the
// replies carried by errors, and refused bytes.
#include "smtp/command.hpp"

#include <gtest/gtest.h>

namespace relayscope::smtp {
namespace {

TEST(Command, VerbsAreCaseInsensitive) {
  for (const char* line : {"QUIT", "quit", "QuIt"}) {
    auto c = parse_command(line);
    ASSERT_TRUE(c) << line;
    EXPECT_EQ(c->verb, Verb::quit);
    EXPECT_EQ(c->verb_text, "QUIT");
  }
}

TEST(Command, EveryVerb) {
  struct Row {
    const char* line;
    Verb verb;
  };
  const Row rows[] = {{"EHLO client.test", Verb::ehlo},
                      {"HELO client.test", Verb::helo},
                      {"MAIL FROM:<a@b>", Verb::mail},
                      {"RCPT TO:<a@b>", Verb::rcpt},
                      {"DATA", Verb::data},
                      {"RSET", Verb::rset},
                      {"NOOP", Verb::noop},
                      {"NOOP anything", Verb::noop},
                      {"QUIT", Verb::quit},
                      {"VRFY user", Verb::vrfy},
                      {"EXPN list", Verb::expn},
                      {"HELP", Verb::help},
                      {"HELP MAIL", Verb::help},
                      {"STARTTLS", Verb::starttls},
                      {"AUTH PLAIN dGVzdA==", Verb::auth},
                      {"BDAT 100 LAST", Verb::bdat}};
  for (const auto& row : rows) {
    auto c = parse_command(row.line);
    ASSERT_TRUE(c) << row.line << ": " << c.error().message;
    EXPECT_EQ(c->verb, row.verb) << row.line;
  }
}

TEST(Command, Unknown) {
  for (const char* line : {"", " ", "XYZZY", "MAILFROM:<a@b>", "GET / HTTP/1.0", " QUIT", "EHL"}) {
    auto c = parse_command(line);
    ASSERT_FALSE(c) << line;
    EXPECT_EQ(c.error().message, "500 5.5.2 Command unrecognized") << line;
  }
}

TEST(Command, EhloHeloNeedAnArgument) {
  for (const char* line : {"EHLO", "EHLO ", "HELO", "HELO   "}) {
    auto c = parse_command(line);
    ASSERT_FALSE(c) << line;
    EXPECT_EQ(c.error().message.substr(0, 18), "501 5.5.4 Syntax: ") << line;
  }
  auto c = parse_command("EHLO [192.0.2.1]  ");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->argument, "[192.0.2.1]");
}

TEST(Command, ABadParameterIsQuotedPrintableAndShortInTheReply) {
  // An escape sequence from a client must not reach a terminal through our
  // reply (nor the log line that quotes it); an endless one is cut.
  auto c = parse_command("MAIL FROM:<a@b.example> X=\x1b[31mred\x07");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "501 5.5.4 Bad parameter: X=?[31mred?");
  auto l = parse_command("MAIL FROM:<a@b.example> X=\x01" + std::string(500, 'v'));
  ASSERT_FALSE(l);
  EXPECT_LE(l.error().message.size(), std::string("501 5.5.4 Bad parameter: ").size() + 64);
}

TEST(Command, MailFrom) {
  auto c = parse_command("MAIL FROM:<user@example.test> SIZE=123 BODY=8BITMIME");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->verb, Verb::mail);
  EXPECT_EQ(c->path.wire(), "<user@example.test>");
  ASSERT_EQ(c->params.size(), 2u);
  EXPECT_EQ(c->params[0], (std::pair<std::string, std::string>{"SIZE", "123"}));
  EXPECT_EQ(c->params[1], (std::pair<std::string, std::string>{"BODY", "8BITMIME"}));
}

TEST(Command, ParamsKeywordUpperCasedValueKept) {
  auto c = parse_command("mail from:<> body=8bitmime smtputf8 ret=HDRS envid=a+2Bb");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->path.null);
  ASSERT_EQ(c->params.size(), 4u);
  EXPECT_EQ(c->params[0].first, "BODY");
  EXPECT_EQ(c->params[0].second, "8bitmime");
  EXPECT_EQ(c->params[1].first, "SMTPUTF8");
  EXPECT_EQ(c->params[1].second, "");
  EXPECT_EQ(c->params[3].second, "a+2Bb");
}

TEST(Command, RcptTo) {
  auto c = parse_command("RCPT TO:<\"a b\"@[192.0.2.1]> NOTIFY=SUCCESS,FAILURE");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path.mailbox.local_part, "a b");
  EXPECT_EQ(c->params[0].second, "SUCCESS,FAILURE");
  auto pm = parse_command("RCPT TO:<Postmaster>");
  ASSERT_TRUE(pm) << pm.error().message;
  EXPECT_EQ(pm->path.mailbox.local_part, "Postmaster");
}

TEST(Command, QuotedGreaterThanInsidePath) {
  auto c = parse_command("RCPT TO:<\"a>b\"@h> X=1");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path.mailbox.local_part, "a>b");
  EXPECT_EQ(c->params.size(), 1u);
}

TEST(Command, OneSpaceAfterColonTolerated) {
  auto c = parse_command("MAIL FROM: <a@b>");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path.wire(), "<a@b>");
  auto r = parse_command("RCPT TO: <a@b> X=Y");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(parse_command("MAIL FROM:  <a@b>"));
  EXPECT_FALSE(parse_command("MAIL FROM :<a@b>"));
  EXPECT_FALSE(parse_command("MAIL  FROM:<a@b>"));
}

TEST(Command, MailRcptSyntaxErrors) {
  struct Row {
    const char* line;
    const char* reply;
  };
  const Row rows[] = {
      {"MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>"},
      {"MAIL FROM:", "501 5.5.4 Syntax: MAIL FROM:<address>"},
      {"MAIL TO:<a@b>", "501 5.5.4 Syntax: MAIL FROM:<address>"},
      {"MAIL FROM<a@b>", "501 5.5.4 Syntax: MAIL FROM:<address>"},
      {"RCPT", "501 5.5.4 Syntax: RCPT TO:<address>"},
      {"RCPT FROM:<a@b>", "501 5.5.4 Syntax: RCPT TO:<address>"},
      {"RCPT TO:<a@b>garbage", "501 5.5.4 Syntax: RCPT TO:<address>"},
      {"MAIL FROM:<a@b> SIZE", nullptr},  // a keyword without value is fine
  };
  for (const auto& row : rows) {
    auto c = parse_command(row.line);
    if (row.reply == nullptr) {
      EXPECT_TRUE(c) << row.line;
      continue;
    }
    ASSERT_FALSE(c) << row.line;
    EXPECT_EQ(c.error().message, row.reply) << row.line;
  }
}

TEST(Command, BadAddressesCarryTheirStatus) {
  auto m = parse_command("MAIL FROM:<a@@b>");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message.substr(0, 10), "501 5.1.7 ");
  auto r = parse_command("RCPT TO:<a@@b>");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.substr(0, 10), "501 5.1.3 ");
  auto null_rcpt = parse_command("RCPT TO:<>");
  ASSERT_FALSE(null_rcpt);
  EXPECT_EQ(null_rcpt.error().message.substr(0, 10), "501 5.1.3 ");
  EXPECT_FALSE(parse_command("MAIL FROM:a@b"));  // brackets needed (strict)
}

TEST(Command, LenientPaths) {
  auto c = parse_command("MAIL FROM:a@b SIZE=1", /*lenient_paths=*/true);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path.wire(), "<a@b>");
  EXPECT_EQ(c->params.size(), 1u);
}

TEST(Command, EsmtpParamGrammar) {
  for (const char* bad : {"MAIL FROM:<a@b> =1", "MAIL FROM:<a@b> -X=1", "MAIL FROM:<a@b> X_Y=1",
                          "MAIL FROM:<a@b> X=", "MAIL FROM:<a@b> X=a=b", "MAIL FROM:<a@b>  X=1",
                          "MAIL FROM:<a@b> X=1\tY=2"}) {
    auto c = parse_command(bad);
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().message.substr(0, 4), "501 ") << bad;
  }
  EXPECT_TRUE(parse_command("MAIL FROM:<a@b> X-Y-1=~!"));
}

TEST(Command, NoArgumentVerbs) {
  for (const char* line : {"DATA x", "RSET x", "QUIT now", "STARTTLS x"}) {
    auto c = parse_command(line);
    ASSERT_FALSE(c) << line;
    EXPECT_EQ(c.error().message.substr(0, 18), "501 5.5.4 Syntax: ");
  }
  EXPECT_TRUE(parse_command("DATA "));  // a trailing space means nothing
}

TEST(Command, ArgumentVerbsNeedOne) {
  for (const char* line : {"VRFY", "EXPN", "AUTH", "BDAT", "VRFY  "}) {
    EXPECT_FALSE(parse_command(line)) << line;
  }
}

TEST(Command, RefusedBytes) {
  using namespace std::string_literals;
  for (const std::string& line : {"MAIL FROM:<a@b>\0"s, "NOOP \x80"s, "EHLO h\xc3\xa9"s,
                                  "NOOP a\rb"s, "NOOP a\nb"s, "\0QUIT"s, "QUIT\r"s}) {
    auto c = parse_command(line);
    ASSERT_FALSE(c) << testing::PrintToString(line);
    EXPECT_EQ(c.error().message, "500 5.5.2 Command contains invalid characters");
  }
}

TEST(Command, LineLengthBounded) {
  EXPECT_TRUE(parse_command("NOOP " + std::string(2000, 'x')));
  auto c = parse_command("NOOP " + std::string(3000, 'x'));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message.substr(0, 10), "500 5.5.2 ");
}

}  // namespace
}  // namespace relayscope::smtp
