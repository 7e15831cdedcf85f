// Issue 14's configuration keys: [[listener]] roles and limits, PROXY
// settings, [aliases], [senders], [rate_limits], [pop_before_smtp]; each bad
// value named with its key and line; `[server] listen` still role mx; and the
// relay-window reader that looks at [spool] and [pop_before_smtp] only.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "server/config.hpp"

namespace relayscope::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RemoteConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("relayscope-remote-config-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "cert.pem") << "x";
    std::ofstream(dir_ / "key.pem") << "x";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A valid base with TLS and users; `extra` is appended.
  std::string base(const std::string& extra, bool tls = true) const {
    std::string t = R"([server]
listen = ["127.0.0.1:2525"]
hostname = "mx.example.test"
[policy]
local_networks = ["127.0.0.2/32"]
local_domains = ["example.test", "other.test"]
[mailboxes]
root = "mail"
[spool]
dir = "spool"
[delivery]
smarthost = "127.0.0.1:2601"
)";
    if (tls) t += "[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n[auth]\nusers_file = \"users\"\n";
    return t + extra;
  }
  Expected<Config> parse(const std::string& text) const {
    return parse_config(text, (dir_ / "relay.toml").string());
  }
  // The error, which must exist, without the "FILE:" prefix.
  std::string error(const std::string& text) const {
    auto c = parse(text);
    EXPECT_FALSE(c) << text;
    if (c) return "";
    auto m = c.error().message;
    auto prefix = (dir_ / "relay.toml").string() + ":";
    EXPECT_EQ(m.rfind(prefix, 0), 0u) << m;
    return m.substr(prefix.size());
  }
  fs::path dir_;
};

TEST_F(RemoteConfig, DefaultsWhenAbsent) {
  auto c = parse(base(""));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->listeners.size(), 1u);
  EXPECT_EQ(c->listeners[0].role, ListenerRole::mx);
  EXPECT_EQ(c->listeners[0].address.to_string(), "127.0.0.1:2525");
  EXPECT_EQ(c->listeners[0].max_message_size, c->limits.max_message_size);
  EXPECT_EQ(c->listeners[0].max_recipients, c->limits.max_recipients);
  EXPECT_FALSE(c->listeners[0].proxy_protocol);
  EXPECT_TRUE(c->aliases.empty());
  EXPECT_TRUE(c->senders.empty());
  EXPECT_EQ(c->rate_limits.messages_per_hour_per_user, 0u);
  EXPECT_FALSE(c->pop_before_smtp.enabled());
  EXPECT_EQ(c->pop_before_smtp.dir, (dir_ / "spool" / "windows").string());
}

TEST_F(RemoteConfig, TheContractKeys) {
  auto c = parse(base(R"(
[limits]
max_recipients = 40
[[listener]]
address = "127.0.0.1:2587"
role = "submission"
max_message_size = 10485760
[[listener]]
address = "[::1]:2465"
role = "submissions"
max_recipients = 7
[[listener]]
address = "127.0.0.5:2526"
role = "mx"
proxy_protocol = true
trusted_proxies = ["127.0.0.9/32", "::1"]
[aliases]
Postmaster = "alice"
"sales@example.test" = ["alice", "Bob"]
"@example.test" = "alice"
help = ["carol@remote.test"]
[senders]
Alice = ["sales@example.test", "@alice.test"]
[rate_limits]
messages_per_hour_per_user = 200
recipients_per_hour_per_user = 1000
messages_per_hour_per_client = 50
recipients_per_hour_per_client = 300
[pop_before_smtp]
window = "10m"
dir = "windows"
)"));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->listeners.size(), 4u);
  EXPECT_EQ(c->listeners[1].role, ListenerRole::submission);
  EXPECT_EQ(c->listeners[1].max_message_size, 10485760u);
  EXPECT_EQ(c->listeners[1].max_recipients, 40u) << "from [limits]";
  EXPECT_EQ(c->listeners[2].role, ListenerRole::submissions);
  EXPECT_EQ(c->listeners[2].address.to_string(), "[::1]:2465");
  EXPECT_EQ(c->listeners[2].max_recipients, 7u);
  EXPECT_TRUE(c->listeners[3].proxy_protocol);
  EXPECT_TRUE(c->listeners[3].trusted_proxies.contains(*IpAddress::parse("127.0.0.9")));
  EXPECT_FALSE(c->listeners[3].trusted_proxies.contains(*IpAddress::parse("127.0.0.8")));
  // `listen` keeps the mx listeners only (what today's relay binds).
  ASSERT_EQ(c->listen.size(), 2u);
  EXPECT_EQ(c->listen[1].to_string(), "127.0.0.5:2526");
  EXPECT_EQ(c->aliases.at("postmaster"), std::vector<std::string>{"alice"});
  EXPECT_EQ(c->aliases.at("sales@example.test"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(c->aliases.at("@example.test"), std::vector<std::string>{"alice"});
  EXPECT_EQ(c->senders.at("alice"),
            (std::vector<std::string>{"sales@example.test", "@alice.test"}));
  EXPECT_EQ(c->rate_limits.messages_per_hour_per_user, 200u);
  EXPECT_EQ(c->rate_limits.recipients_per_hour_per_user, 1000u);
  EXPECT_EQ(c->rate_limits.messages_per_hour_per_client, 50u);
  EXPECT_EQ(c->rate_limits.recipients_per_hour_per_client, 300u);
  ASSERT_TRUE(c->pop_before_smtp.enabled());
  EXPECT_EQ(*c->pop_before_smtp.window, 10min);
  EXPECT_EQ(c->pop_before_smtp.dir, (dir_ / "windows").string());
  EXPECT_STREQ(to_string(ListenerRole::submissions), "submissions");
}

TEST_F(RemoteConfig, ListenerTablesAloneAreEnough) {
  auto text = base("[[listener]]\naddress = \"127.0.0.1:2526\"\nrole = \"mx\"\n");
  text.replace(text.find("listen = [\"127.0.0.1:2525\"]\n"), 28, "");
  auto c = parse(text);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->listen.size(), 1u);
  EXPECT_EQ(c->listeners.size(), 1u);
  auto none = base("");
  none.replace(none.find("listen = [\"127.0.0.1:2525\"]\n"), 28, "");
  EXPECT_EQ(error(none), "1: server.listen is required");
}

TEST_F(RemoteConfig, ListenerErrorsNameTheKey) {
  const std::string l = "[[listener]]\naddress = \"127.0.0.1:2587\"\n";
  auto at = [&](const std::string& extra) { return error(base(l + extra)); };
  EXPECT_EQ(at("role = \"smtp\"\n"),
            "20: listener.role must be \"mx\", \"submission\" or \"submissions\", not 'smtp'");
  EXPECT_EQ(at(""), "18: listener.role is required: \"mx\", \"submission\" or \"submissions\"");
  EXPECT_EQ(at("role = \"mx\"\nport = 25\n"), "21: unknown key listener.port");
  EXPECT_EQ(at("role = \"mx\"\nproxy_protocol = true\n"),
            "21: listener.trusted_proxies is required when proxy_protocol = true");
  EXPECT_EQ(at("role = \"mx\"\ntrusted_proxies = [\"127.0.0.9\"]\n"),
            "21: listener.trusted_proxies needs proxy_protocol = true (else it does nothing)");
  EXPECT_EQ(at("role = \"mx\"\nproxy_protocol = true\ntrusted_proxies = [\"nope\"]\n"),
            "22: listener.trusted_proxies: 'nope' is not a CIDR block: "
            "not an IP address: 'nope'");
  EXPECT_EQ(at("role = \"mx\"\nmax_recipients = 0\n"),
            "21: listener.max_recipients must be between 1 and 100000");
  EXPECT_EQ(error(base("[[listener]]\naddress = \"127.0.0.1:2525\"\nrole = \"mx\"\n")),
            "19: listener.address 127.0.0.1:2525 is already a listener");
  EXPECT_EQ(error(base("[[listener]]\naddress = \"127.0.0.1\"\nrole = \"mx\"\n")),
            "19: listener.address: '127.0.0.1' is not ADDR:PORT");
  EXPECT_EQ(error(base("[[listener]]\nrole = \"mx\"\n")), "18: listener.address is required");
  EXPECT_EQ(error(base("[listener]\naddress = \"127.0.0.1:2587\"\n")),
            "18: listener must be written [[listener]] (an array of tables)");
  // Submission needs TLS and users: clients log in there.
  EXPECT_EQ(error(base(l + "role = \"submission\"\n", false)),
            "15: listener.role \"submission\" needs [tls] and auth.users_file: clients log in "
            "there");
}

TEST_F(RemoteConfig, AliasAndSenderErrorsNameTheKey) {
  EXPECT_EQ(error(base("[aliases]\n\"sales@remote.test\" = \"alice\"\n")),
            "19: aliases.\"sales@remote.test\" is not at a local domain (policy.local_domains)");
  EXPECT_EQ(error(base("[aliases]\n\"@remote.test\" = \"alice\"\n")),
            "19: aliases.\"@remote.test\": a catch-all needs a local domain "
            "(policy.local_domains)");
  EXPECT_EQ(error(base("[aliases]\nabuse = []\n")), "19: aliases.\"abuse\" is empty");
  EXPECT_EQ(error(base("[aliases]\nabuse = 3\n")),
            "19: aliases.\"abuse\" must be a string or an array of strings");
  EXPECT_EQ(error(base("[aliases]\nabuse = [\"alice\", 3]\n")),
            "19: aliases.\"abuse\" must hold strings only");
  EXPECT_EQ(error(base("[aliases]\nabuse = \"@example.test\"\n")),
            "19: aliases.\"abuse\": '@example.test' is neither a user name nor an address");
  EXPECT_EQ(error(base("[aliases]\nabuse = \"a\"\nABUSE = \"b\"\n")),
            "19: aliases.\"abuse\" is given twice");
  EXPECT_EQ(error(base("[senders]\nalice = \"nope\"\n")),
            "19: senders.alice: 'nope' is not an address or \"@domain\"");
  EXPECT_EQ(error(base("[senders]\n\"a b\" = \"a@x.test\"\n")), "19: senders.a b: not a user name");
}

TEST_F(RemoteConfig, RateAndWindowErrorsNameTheKey) {
  EXPECT_EQ(error(base("[rate_limits]\nmessages_per_hour = 5\n")),
            "19: unknown key rate_limits.messages_per_hour");
  EXPECT_EQ(error(base("[rate_limits]\nmessages_per_hour_per_user = -1\n")),
            "19: rate_limits.messages_per_hour_per_user must be between 0 and 1000000000");
  EXPECT_EQ(error(base("[pop_before_smtp]\nwindow = \"10x\"\n")),
            "19: pop_before_smtp.window: '10x': unknown unit 'x' (ms, s, m, h, d)");
  EXPECT_EQ(error(base("[pop_before_smtp]\nwindow = \"10ms\"\n")),
            "19: pop_before_smtp.window is too short");
  EXPECT_EQ(error(base("[pop_before_smtp]\nwindow = \"8d\"\n")),
            "19: pop_before_smtp.window is longer than 7 days");
  EXPECT_EQ(error(base("[pop_before_smtp]\ndir = \"\"\n")), "19: pop_before_smtp.dir is empty");
}

TEST_F(RemoteConfig, WindowSettingsReadOnlyTheirSections) {
  // Everything else may be wrong or unreadable: a missing TLS key, unknown
  // sections, bad values. Only [spool] and [pop_before_smtp] count.
  auto text = std::string(R"([server]
listen = "not even an array"
[tls]
cert = "/nonexistent/cert.pem"
key = "/root/secret.pem"
[whatever]
x = 1
[spool]
dir = "spool"
[pop_before_smtp]
window = "15m"
)");
  auto path = (dir_ / "relay.toml").string();
  auto w = parse_window_settings(text, path);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(*w->window, 15min);
  EXPECT_EQ(w->dir, (dir_ / "spool" / "windows").string());
  auto d = parse_window_settings("[pop_before_smtp]\ndir = \"/srv/w\"\n", path);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->window) << "off";
  EXPECT_EQ(d->dir, "/srv/w");
  auto e = parse_window_settings("[pop_before_smtp]\nwindow = \"x\"\n", path);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message,
            path + ":2: pop_before_smtp.window: 'x' is not a duration (e.g. 30s, 5m, 2h)");
  auto f = parse_window_settings("[pop_before_smtp]\nwindw = \"1m\"\n", path);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, path + ":2: unknown key pop_before_smtp.windw");
  auto g = parse_window_settings("[pop_before_smtp]\nwindow = \"1m\"\n", path);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().message, path + ":1: pop_before_smtp.dir or spool.dir is required");
  std::ofstream(path) << text;
  auto loaded = load_window_settings(path);
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(load_window_settings((dir_ / "none.toml").string()));
}

}  // namespace
}  // namespace relayscope::server
