// The smtpd dialogue files (tests/unit/smtpd/dialogues/*.dlg) run in memory
// against a lab host on the one server session: a closed host (relay_denied)
// whose policy agrees with the relay's and the collector's for a stranger
// (local.test local, anything else refused with 554 5.7.1). Each S: line must
// match, and the transcript must equal <name>.lab.golden: the replies differ
// from the relay's only where they are the lab's own texts (greeting, EHLO,
// QUIT, queue ids). RELAYSCOPE_UPDATE_GOLDEN=1 rewrites the golden files.
#include <gtest/gtest.h>

#include "../smtpd/dialogue_files.hpp"
#include "lab/host_policy.hpp"
#include "lab/host_sink.hpp"
#include "lab/ledger.hpp"
#include "smtpd/dialogue.hpp"

namespace relayscope::lab {
namespace {

namespace fs = std::filesystem;
namespace files = smtpd::dialogue_files;

// A hub with one lab host of the given behaviour, at local.test.
std::shared_ptr<SessionHub> hub_of(Behaviour b) {
  auto plan = std::make_shared<LabPlan>();
  plan->seed = 7;
  plan->domains.push_back({"local.test", true, Unresolved::nxdomain, 0, 0});
  PlannedHost host;
  host.ip = (127u << 24) | (1u << 16) | 1u;
  host.behaviour = b;
  plan->hosts.push_back(host);
  auto hub = std::make_shared<SessionHub>();
  hub->plan = plan;
  hub->ledger = std::make_shared<Ledger>();
  hub->started = std::chrono::steady_clock::now();
  return hub;
}

// The host's policy and sink, named as the dialogues' server is (mx.test).
struct LabConfiguration {
  explicit LabConfiguration(Behaviour b) : hub(hub_of(b)) {
    ctx.self.name = "mx.test";
    ctx.client_address = "192.0.2.7";
    settings = host_settings(ctx, &policy);
  }
  asio::io_context io;
  std::shared_ptr<SessionHub> hub;
  HostContext ctx{*hub, 0, io.get_executor()};
  HostPolicy policy{ctx, [] {}};
  HostSink sink{ctx};
  smtpd::SessionSettings settings;
};

TEST(LabDialogues, ClosedHostAgreesWithTheRelay) {
  int ran = 0;
  for (const auto& path : files::all()) {
    auto script = files::slurp(path);
    if (!smtpd::dialogue_applies(script, "lab")) continue;
    ++ran;
    LabConfiguration lab(Behaviour::relay_denied);
    auto r = smtpd::run_dialogue(script, lab.settings, lab.policy, lab.sink);
    EXPECT_TRUE(r.ok) << path.filename() << ": " << r.failure << "\n" << r.transcript;
    auto golden = fs::path(path).replace_extension(".lab.golden");
    if (files::update_golden(golden, r.transcript)) continue;
    ASSERT_TRUE(fs::exists(golden)) << golden << " is missing (RELAYSCOPE_UPDATE_GOLDEN=1)";
    EXPECT_EQ(files::slurp(golden), r.transcript) << golden;
  }
  EXPECT_GE(ran, 8);
}

// A message the closed host takes for its own domain lands in the ledger as
// local, through the lab's sink.
TEST(LabDialogues, LocalMessageIsRecordedInTheLedger) {
  LabConfiguration lab(Behaviour::relay_denied);
  auto r = smtpd::run_dialogue(files::slurp(files::dir() / "basic.dlg"), lab.settings, lab.policy,
                               lab.sink);
  ASSERT_TRUE(r.ok) << r.failure;
  EXPECT_EQ(lab.hub->ledger->count(EventKind::local), 1u);
  EXPECT_EQ(lab.hub->ledger->count(EventKind::accepted), 1u);
}

// The lab's replies stay its profile's texts where they differ from the
// relay's: a greylisting host answers 450 4.7.1 at RCPT, a helo_only host
// refuses EHLO with 500 and takes HELO.
TEST(LabDialogues, BehavioursShapeTheReplies) {
  struct Case {
    Behaviour behaviour;
    const char* script;
  };
  const Case cases[] = {
      {Behaviour::greylist,
       "S: 220 mx.test ESMTP relayscope-lab\nC: HELO c.example\nS: 250 mx.test\n"
       "C: MAIL FROM:<a@remote.example>\nS: 250\nC: RCPT TO:<b@local.test>\n"
       "S: 450 4.7.1 <b@local.test>: Recipient address rejected: Greylisted\n"
       "C: QUIT\nS: 221 2.0.0 mx.test Bye\nS: ~\n"},
      {Behaviour::helo_only,
       "S: 220\nC: EHLO c.example\nS: 500 5.5.1 Command unrecognized\nC: HELO c.example\n"
       "S: 250 mx.test\nC: QUIT\nS: 221\nS: ~\n"},
      // Control characters never reach a reply raw, in the lab's wording too.
      {Behaviour::relay_denied,
       "S: 220\nC: EHLO evil\\x1b[2J\\x07.example\n"
       "S: 250-mx.test Hello evil?[2J?.example [192.0.2.7]\nC: QUIT\nS: 221\nS: ~\n"},
      // RFC 5321 3.1: after a 554 greeting, 503 to all but QUIT.
      {Behaviour::greeting_554,
       "S: 554 5.3.2 mx.test No SMTP service here\nC: EHLO c.example\nS: 503\n"
       "C: MAIL FROM:<a@remote.example>\nS: 503\nC: QUIT\nS: 221\nS: ~\n"},
      // A quit_error host answers QUIT with 421.
      {Behaviour::quit_error, "S: 220\nC: QUIT\nS: 421 4.3.0 mx.test Error closing\nS: ~\n"},
  };
  for (const auto& c : cases) {
    LabConfiguration lab(c.behaviour);
    auto r = smtpd::run_dialogue(c.script, lab.settings, lab.policy, lab.sink);
    EXPECT_TRUE(r.ok) << info(c.behaviour).name << ": " << r.failure << "\n" << r.transcript;
  }
}

// A trick host sees the raw RCPT line the parser refuses ("<T@D@>": a
// trailing '@') and relays for its spelling; the session records it.
TEST(LabDialogues, TrickHostTakesTheRawLine) {
  LabConfiguration lab(Behaviour::trick_trailing_at);
  auto r = smtpd::run_dialogue(
      "S: 220\nC: EHLO c.example\nS: 250\nC: MAIL FROM:<a@remote.example>\nS: 250\n"
      "C: RCPT TO:<t@remote.example>\nS: 554 5.7.1\nC: RCPT TO:<t@remote.example@>\nS: 250\n"
      "C: QUIT\nS: 221\nS: ~\n",
      lab.settings, lab.policy, lab.sink);
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.transcript;
}

}  // namespace
}  // namespace relayscope::lab
