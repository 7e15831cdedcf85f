// The command table: what must come before each verb (503 otherwise).
#include "smtpd/commands.hpp"

#include <gtest/gtest.h>

namespace relayscope::smtpd {
namespace {

using smtp::Verb;

std::optional<int> seq(Verb v, SessionPhase p) {
  auto r = check_sequence(command_spec(v), p);
  if (!r) return std::nullopt;
  return r->code;
}

TEST(Commands, Sequence) {
  SessionPhase fresh;
  EXPECT_EQ(seq(Verb::mail, fresh), 503);
  EXPECT_EQ(seq(Verb::starttls, fresh), 503);
  EXPECT_EQ(seq(Verb::auth, fresh), 503);
  EXPECT_FALSE(seq(Verb::ehlo, fresh));
  EXPECT_FALSE(seq(Verb::noop, fresh));
  SessionPhase greeted{true, false, false};
  EXPECT_FALSE(seq(Verb::mail, greeted));
  EXPECT_EQ(seq(Verb::rcpt, greeted), 503);
  EXPECT_EQ(seq(Verb::data, greeted), 503);
  SessionPhase in_mail{true, true, false};
  EXPECT_EQ(seq(Verb::mail, in_mail), 503);
  EXPECT_FALSE(seq(Verb::rcpt, in_mail));
  EXPECT_EQ(seq(Verb::data, in_mail), 554);
  EXPECT_EQ(seq(Verb::auth, in_mail), 503);
  EXPECT_EQ(seq(Verb::starttls, in_mail), 503);
  SessionPhase with_rcpt{true, true, true};
  EXPECT_FALSE(seq(Verb::data, with_rcpt));
  EXPECT_FALSE(seq(Verb::rset, with_rcpt));
}

TEST(Commands, JunkVerbsAreCounted) {
  for (auto v : {Verb::noop, Verb::rset, Verb::vrfy, Verb::expn, Verb::help}) {
    EXPECT_TRUE(command_spec(v).flags & junk);
  }
  for (auto v : {Verb::ehlo, Verb::mail, Verb::rcpt, Verb::data, Verb::quit}) {
    EXPECT_FALSE(command_spec(v).flags & junk);
  }
}

TEST(Commands, GroupEnders) {
  // RFC 2920 3.1: the last command of a group; its reply goes out at once.
  for (auto v : {Verb::ehlo, Verb::data, Verb::quit, Verb::noop, Verb::starttls, Verb::auth}) {
    EXPECT_TRUE(command_spec(v).flags & ends_group);
  }
  for (auto v : {Verb::mail, Verb::rcpt, Verb::rset}) {
    EXPECT_FALSE(command_spec(v).flags & ends_group);
  }
}

}  // namespace
}  // namespace relayscope::smtpd
