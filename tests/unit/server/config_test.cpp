// The relay's configuration: the contract keys read into values, and every
// error named with its line ("FILE:LINE: what"), the first one only.
#include "server/config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace relayscope::server {
namespace {

const char* good = R"(# a comment
[server]
listen = ["127.0.0.1:2525", "[::1]:2525"]
hostname = "MX.Example.Test"

[policy]
local_networks = ["127.0.0.2/32", "::1/128"]
local_domains = ["example.test", "Other.Example."]

[mailboxes]
root = "mail"

[spool]
dir = "/var/spool/relayscope"

[delivery]
smarthost = "127.0.0.1:2601"
dns = ["127.0.0.1:5353"]
retry = ["1m", "5m", "1h"]

[limits]
max_recipients = 50

[timeouts]
idle = "90s"

[dnsbl]
zones = ["dnsbl.example.test"]
)";

std::string error_of(const std::string& text) {
  auto c = parse_config(text, "/etc/relay.toml");
  EXPECT_FALSE(c) << text;
  return c ? std::string() : c.error().message;
}

TEST(Config, ReadsTheContractKeys) {
  auto c = parse_config(good, "/etc/relayscope/relay.toml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->listen.size(), 2u);
  EXPECT_EQ(c->listen[0].to_string(), "127.0.0.1:2525");
  EXPECT_EQ(c->listen[1].to_string(), "[::1]:2525");
  EXPECT_EQ(c->hostname, "mx.example.test");
  EXPECT_TRUE(c->local_networks.contains(*IpAddress::parse("127.0.0.2")));
  EXPECT_FALSE(c->local_networks.contains(*IpAddress::parse("127.0.0.1")));
  EXPECT_TRUE(c->local_networks.contains(*IpAddress::parse("::1")));
  EXPECT_EQ(c->local_domains, (std::vector<std::string>{"example.test", "other.example"}));
  EXPECT_EQ(c->mailbox_root, "/etc/relayscope/mail");  // relative to the file
  EXPECT_EQ(c->spool_dir, "/var/spool/relayscope");
  ASSERT_TRUE(c->delivery.smarthost);
  EXPECT_EQ(c->delivery.smarthost->port, 2601);
  EXPECT_EQ(c->delivery.retry.size(), 3u);
  EXPECT_EQ(c->limits.max_recipients, 50u);
  EXPECT_EQ(c->timeouts.idle, std::chrono::seconds(90));
  EXPECT_EQ(c->dnsbl_dns, c->delivery.dns);  // falls back to the delivery servers
  EXPECT_FALSE(c->tls());
}

TEST(Config, BadCidrNamesItsLine) {
  std::string text = good;
  text.replace(text.find("\"::1/128\""), 9, "\"10.0.0.0/33\"");
  auto e = error_of(text);
  EXPECT_EQ(e.rfind("/etc/relay.toml:7: ", 0), 0u) << e;
  EXPECT_NE(e.find("10.0.0.0/33"), std::string::npos) << e;
}

TEST(Config, BadCidrOnItsOwnLineInAMultiLineArray) {
  auto e = error_of(
      "[server]\nlisten = [\"127.0.0.1:25\"]\nhostname = \"mx.example.test\"\n"
      "[policy]\nlocal_networks = [\n  \"127.0.0.2/32\",\n  \"nonsense\",\n]\n");
  EXPECT_EQ(e.rfind("/etc/relay.toml:7: ", 0), 0u) << e;
}

TEST(Config, UnknownKeyAndSection) {
  std::string text = good;
  text.insert(text.find("[limits]") + 9, "max_recipeints = 5\n");
  auto e = error_of(text);
  EXPECT_EQ(e.rfind("/etc/relay.toml:22: ", 0), 0u) << e;
  EXPECT_NE(e.find("unknown key limits.max_recipeints"), std::string::npos) << e;

  auto s = error_of(std::string(good) + "\n[relay]\nopen = true\n");
  EXPECT_NE(s.find("unknown section [relay]"), std::string::npos) << s;
}

TEST(Config, SyntaxErrorNamesItsLine) {
  std::string text = good;
  text.insert(text.find("[spool]"), "hostname = \"unterminated\n");
  auto e = error_of(text);
  EXPECT_EQ(e.rfind("/etc/relay.toml:13: ", 0), 0u) << e;
}

TEST(Config, MissingAndInconsistent) {
  EXPECT_NE(
      error_of("[server]\nhostname = \"mx.example.test\"\n").find("server.listen is required"),
      std::string::npos);
  // Local networks may relay: mail needs a way out.
  auto e = error_of(
      "[server]\nlisten = [\"127.0.0.1:25\"]\nhostname = \"mx.example.test\"\n"
      "[policy]\nlocal_networks = [\"127.0.0.2/32\"]\n[spool]\ndir = \"/s\"\n");
  EXPECT_NE(e.find("smarthost or dns"), std::string::npos) << e;
  // A users file without TLS: the local mailboxes only (AUTH needs TLS;
  // check-config warns).
  std::string text = good;
  text += "[auth]\nusers_file = \"users\"\n";
  EXPECT_TRUE(parse_config(text, "relay.toml")) << error_of(text);
  // Wrong types and ranges.
  std::string big = good;
  big.replace(big.find("max_recipients = 50"), 19, "max_recipients = 0");
  EXPECT_NE(error_of(big).find("between"), std::string::npos);
  std::string word = good;
  word.replace(word.find("\"90s\""), 5, "\"soon\"");
  EXPECT_NE(error_of(word).find("timeouts.idle"), std::string::npos);
}

TEST(Config, ListenAndDurations) {
  EXPECT_FALSE(parse_listen_address("127.0.0.1"));
  EXPECT_FALSE(parse_listen_address("::1:25"));
  EXPECT_FALSE(parse_listen_address("mx.example.test:25"));
  EXPECT_FALSE(parse_listen_address("127.0.0.1:70000"));
  EXPECT_TRUE(parse_listen_address("[::1]:25"));
  EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration("2h"), std::chrono::hours(2));
  EXPECT_EQ(*parse_duration("30"), std::chrono::seconds(30));
  EXPECT_FALSE(parse_duration("5 minutes"));
  EXPECT_FALSE(parse_duration(""));
}

// 999999999999 days is 8.6e19 ms, past a signed 64-bit integer: it was
// multiplied unchecked (undefined behaviour, a wrapped negative or garbage
// timeout); now it is a configuration error that names the key's line.
TEST(Config, AnOverlongDurationIsAClearErrorNotAnOverflow) {
  auto d = parse_duration("999999999999d");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("too long"), std::string::npos) << d.error().message;
  EXPECT_FALSE(parse_duration("999999999999h"));
  EXPECT_FALSE(parse_duration("3651d"));
  EXPECT_EQ(*parse_duration("3650d"), std::chrono::hours(3650 * 24));
  EXPECT_EQ(*parse_duration("99999999999ms"), std::chrono::milliseconds(99999999999LL));
  EXPECT_FALSE(parse_duration("999999999999ms"));  // 31 years
  auto msg = error_of(
      "[server]\nlisten = [\"127.0.0.1:2525\"]\nhostname = \"mx.example.test\"\n"
      "[spool]\ndir = \"/tmp/s\"\n[timeouts]\nidle = \"999999999999d\"\n");
  EXPECT_NE(msg.find("/etc/relay.toml:7:"), std::string::npos) << msg;
}

TEST(Config, TheShippedExampleIsValid) {
  auto c = load_config(std::string(RELAYSCOPE_SOURCE_DIR) + "/examples/relay.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->listen.empty());
}

}  // namespace
}  // namespace relayscope::server
