// check-config's pure checks (duplicate listeners; warnings for open or
// mistaken local networks and for root without `user`), the access judge,
// and what a SIGHUP cannot apply without a restart.
#include "server/config_check.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "server/config.hpp"
#include "server/reload.hpp"
#include "server/users_file.hpp"

namespace relayscope::server {
namespace {

std::string base(const std::string& server_extra, const std::string& nets) {
  return "[server]\n"
         "listen = [\"127.0.0.1:2525\"" +
         server_extra +
         "]\n"
         "hostname = \"mx.example.test\"\n"
         "[policy]\n"
         "local_networks = [" +
         nets +
         "]\n"
         "[spool]\n"
         "dir = \"/tmp/spool\"\n"
         "[delivery]\n"
         "smarthost = \"127.0.0.1:2601\"\n";
}

ConfigReport check(const std::string& text, bool root = false) {
  auto c = parse_config(text, "/etc/relay.toml");
  EXPECT_TRUE(c) << c.error().message;
  ConfigReport r;
  if (c) check_static(*c, root, r);
  return r;
}

// An alias naming a user the users file does not hold is most likely a typo.
TEST(ConfigCheck, AliasToAUserTheUsersFileLacksWarns) {
  char tmpl[] = "/tmp/relayscope-check-aliases-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  UsersFile users;
  users.set("alice",
            "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
            "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g");
  ASSERT_TRUE(users.save(dir + "/users"));
  auto text = base("", "\"127.0.0.2/32\"");
  text.replace(
      text.find("[spool]"), 7,
      "local_domains = [\"example.test\"]\n[mailboxes]\nroot = \"" + dir + "/mail\"\n[spool]");
  text += "[auth]\nusers_file = \"" + dir +
          "/users\"\n"
          "[aliases]\npostmaster = \"alice\"\nsales = [\"alice\", \"carol\", \"bob@far.test\"]\n"
          "team = \"sales\"\n";
  auto c = parse_config(text, "/etc/relay.toml");
  ASSERT_TRUE(c) << c.error().message;
  auto r = check_config(*c);
  std::string all;
  for (const auto& w : r.warnings) all += w + "\n";
  EXPECT_NE(all.find("aliases.\"sales\": \"carol\" is not a user of auth.users_file"),
            std::string::npos)
      << all;
  EXPECT_EQ(all.find("\"alice\" is not a user"), std::string::npos) << all;
  EXPECT_EQ(all.find("\"sales\" is not a user"), std::string::npos) << all;
  EXPECT_NE(all.find("users_file without [tls]"), std::string::npos) << all;
  std::filesystem::remove_all(dir);
}

TEST(ConfigCheck, DuplicateListenerIsAnErrorWithItsLine) {
  auto r = check(base(",\n  \"127.0.0.1:2525\"", "\"127.0.0.2/32\""));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(
      r.errors[0].rfind("/etc/relay.toml:3: server.listen: 127.0.0.1:2525 is listed twice", 0), 0u)
      << r.errors[0];
}

TEST(ConfigCheck, WildcardOverlapsAnAddressOnTheSamePort) {
  auto r = check(base(", \"0.0.0.0:2525\"", "\"127.0.0.2/32\""));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("0.0.0.0:2525 overlaps 127.0.0.1:2525"), std::string::npos);
  EXPECT_TRUE(check(base(", \"127.0.0.1:2526\", \"[::1]:2525\"", "\"127.0.0.2/32\"")).ok());
}

TEST(ConfigCheck, EveryAddressIsAnOpenRelayWarning) {
  auto r = check(base("", "\"127.0.0.2/32\",\n \"0.0.0.0/0\",\n \"::/0\""));
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0].rfind("/etc/relay.toml:6: warning: policy.local_networks: 0.0.0.0/0", 0),
            0u)
      << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("open relay"), std::string::npos);
  EXPECT_EQ(r.warnings[1].rfind("/etc/relay.toml:7: warning: policy.local_networks: ::/0", 0), 0u)
      << r.warnings[1];
}

TEST(ConfigCheck, HostBitsSetAreAWarningNamingTheNetwork) {
  auto r = check(base("", "\"127.99.0.21/24\", \"127.0.0.0/8\", \"::1/128\", \"fd00::1/64\""));
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_NE(r.warnings[0].find("127.99.0.21/24 has host bits set; it means 127.99.0.0/24"),
            std::string::npos)
      << r.warnings[0];
  EXPECT_NE(r.warnings[1].find("it means fd00::/64"), std::string::npos) << r.warnings[1];
}

TEST(ConfigCheck, RootWithoutUserWarns) {
  auto text = base("", "\"127.0.0.2/32\"");
  EXPECT_TRUE(check(text, false).warnings.empty());
  auto r = check(text, true);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("server.user is not set"), std::string::npos);
  auto with_user = text;
  with_user.insert(with_user.find("[policy]"), "user = \"nobody\"\n");
  EXPECT_TRUE(check(with_user, true).warnings.empty());
}

TEST(ConfigCheck, AccessIsJudgedFromModesForAnotherUser) {
  auto dir =
      std::filesystem::temp_directory_path() / ("relayscope-access-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  auto file = (dir / "users").string();
  std::ofstream(file) << "x\n";
  RunAs other;
  other.uid = 4242;
  other.gid = 4242;
  other.name = "other";
  ::chmod(file.c_str(), 0600);
  EXPECT_FALSE(may_access(file, other, 4));
  ::chmod(file.c_str(), 0644);
  EXPECT_TRUE(may_access(file, other, 4));
  EXPECT_FALSE(may_access(file, other, 2));
  ::chmod(dir.c_str(), 0700);  // a closed directory on the way
  EXPECT_FALSE(may_access(file, other, 4));
  RunAs self;
  self.uid = ::geteuid();
  self.gid = ::getegid();
  EXPECT_TRUE(may_access(file, self, 4));
  std::filesystem::remove_all(dir);
}

TEST(Reload, NamesWhatNeedsARestart) {
  auto a = parse_config(base("", "\"127.0.0.2/32\""), "/etc/relay.toml");
  ASSERT_TRUE(a);
  auto b = *a;
  b.local_networks = CidrSet();  // applied live: not listed
  EXPECT_TRUE(needs_restart(*a, b, false).empty());
  b.listen.push_back(*parse_listen_address("127.0.0.1:25"));
  b.limits.max_recipients = 5;
  auto why = needs_restart(*a, b, false);
  ASSERT_EQ(why.size(), 2u);
  EXPECT_NE(why[0].find("new port below 1024 (127.0.0.1:25) needs root"), std::string::npos)
      << why[0];
  EXPECT_EQ(why[1].rfind("limits", 0), 0u);
  EXPECT_EQ(needs_restart(*a, b, true)[0].find("below 1024"), std::string::npos);
}

}  // namespace
}  // namespace relayscope::server
