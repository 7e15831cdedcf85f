// The dialogue files (dialogues/*.dlg) run in memory against the relay's and
// the collector's configurations (their settings and policies; a memory
// sink): each S: line must match, and the whole transcript must equal its
// golden file (<name>.<configuration>.golden). RELAYSCOPE_UPDATE_GOLDEN=1
// rewrites the golden files; review the diff before committing it.
#include "smtpd/dialogue.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "collect/collector_parts.hpp"
#include "dialogue_files.hpp"
#include "server/config.hpp"
#include "server/policy.hpp"
#include "server/relay_parts.hpp"

namespace relayscope {
namespace {

namespace fs = std::filesystem;

namespace files = smtpd::dialogue_files;

// The relay as configured by a TOML file (no TLS, no users, no DNSBL): the
// client 192.0.2.7 is a stranger, local.test its one local domain.
struct RelayConfiguration {
  server::Config config = [] {
    auto c = server::parse_config(R"(
[server]
listen = ["127.0.0.1:2525"]
hostname = "mx.test"
[policy]
local_networks = ["127.0.0.0/8"]
local_domains = ["local.test"]
[mailboxes]
root = "/nonexistent/mail"
[spool]
dir = "/nonexistent/spool"
[delivery]
smarthost = "127.0.0.1:2601"
[timeouts]
greet_pause = "0s"
)",
                                  "relay.toml");
    if (!c) throw std::runtime_error(c.error().message);
    return *c;
  }();
  smtpd::SessionSettings settings = server::session_settings(config);
  server::RelayPolicy policy{config.local_networks, config.local_domains};
  server::RelaySessionPolicy session_policy{policy, nullptr};
};

struct CollectorConfiguration {
  collect::CollectorOptions options = [] {
    collect::CollectorOptions o;
    o.domain = "local.test";
    o.hostname = "mx.test";
    return o;
  }();
  collect::CollectorCounts counts;
  smtpd::SessionSettings settings = collect::collector_settings(options);
  collect::CollectorPolicy policy{options.domain, counts};
};

void check_golden(const fs::path& golden, const std::string& transcript) {
  if (files::update_golden(golden, transcript)) return;
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing (RELAYSCOPE_UPDATE_GOLDEN=1)";
  EXPECT_EQ(files::slurp(golden), transcript) << golden;
}

TEST(Dialogues, ThereAreSome) {
  EXPECT_GE(files::all().size(), 10u);
}

TEST(Dialogues, RelayConfiguration) {
  for (const auto& path : files::all()) {
    auto script = files::slurp(path);
    if (!smtpd::dialogue_applies(script, "relay")) continue;
    RelayConfiguration relay;
    smtpd::MemorySink sink;
    auto r = smtpd::run_dialogue(script, relay.settings, relay.session_policy, sink);
    EXPECT_TRUE(r.ok) << path.filename() << ": " << r.failure << "\n" << r.transcript;
    check_golden(fs::path(path).replace_extension(".relay.golden"), r.transcript);
  }
}

TEST(Dialogues, CollectorConfiguration) {
  for (const auto& path : files::all()) {
    auto script = files::slurp(path);
    if (!smtpd::dialogue_applies(script, "collector")) continue;
    CollectorConfiguration collector;
    smtpd::MemorySink sink;
    auto r = smtpd::run_dialogue(script, collector.settings, collector.policy, sink);
    EXPECT_TRUE(r.ok) << path.filename() << ": " << r.failure << "\n" << r.transcript;
    check_golden(fs::path(path).replace_extension(".collector.golden"), r.transcript);
  }
}

}  // namespace
}  // namespace relayscope
