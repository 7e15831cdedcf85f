// User names are lower case: the users file stores them so (passwd goes
// through set()), reads them so, and AUTH's verify() compares without case.
#include <gtest/gtest.h>

#include "server/users_file.hpp"

namespace relayscope::server {
namespace {

TEST(UsersCase, SetAndVerifyIgnoreCase) {
  UsersFile f;
  auto h = UsersFile::hash("secret");
  ASSERT_TRUE(h);
  f.set("Alice", *h);
  EXPECT_TRUE(f.has("alice"));
  EXPECT_TRUE(f.has("ALICE"));
  EXPECT_EQ(f.names(), std::vector<std::string>{"alice"});
  EXPECT_NE(f.text().find("\nalice:$argon2id$"), std::string::npos) << f.text();
  EXPECT_TRUE(f.verify("aLiCe", "secret"));
  EXPECT_FALSE(f.verify("alice", "Secret"));
  f.set("ALICE", *h);
  EXPECT_EQ(f.size(), 1u) << "one user, whatever the case";
}

TEST(UsersCase, FileNamesAreLoweredAndDuplicatesRefused) {
  auto h = UsersFile::hash("pw");
  ASSERT_TRUE(h);
  auto f = UsersFile::parse("Bob:" + *h + "\n", "users");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->names(), std::vector<std::string>{"bob"});
  EXPECT_TRUE(f->verify("BOB", "pw"));
  auto twice = UsersFile::parse("bob:" + *h + "\nBOB:" + *h + "\n", "users");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message,
            "users:2: user 'bob' is given twice (names compare without case)");
}

}  // namespace
}  // namespace relayscope::server
