// relayscope queue --config FILE [list|flush [ID]|show ID|delete ID|ALL|
// hold ID|release ID]: lists the relay's spool (id, arrival, size, sender,
// attempts, next retry, each recipient's state, last error; held messages
// after), asks the running relay (SIGUSR1 to the pid in its locked pid file)
// to try its queue now, or shows, deletes, holds and releases one message
// (server/queue_admin.hpp: whole-file renames, with the relay running or
// not). Listing and showing never change the spool.
#include <signal.h>

#include <cstdio>
#include <ctime>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "server/config.hpp"
#include "server/pidfile.hpp"
#include "server/queue_admin.hpp"
#include "server/spool.hpp"

namespace relayscope::cli {

namespace {

struct QueueArgs {
  std::string config;
  std::string action = "list";
  std::string id;
};

// SIGUSR1 to the running relay; false (with a message) when none runs.
bool signal_relay(const server::Config& c, bool quiet_if_stopped) {
  auto pid = server::running_server(c.pidfile);
  if (!pid) {
    if (!quiet_if_stopped) {
      std::fprintf(stderr, "relayscope queue: %s\n", pid.error().message.c_str());
    }
    return false;
  }
  if (::kill(*pid, SIGUSR1) != 0) {
    std::fprintf(stderr, "relayscope queue: cannot signal pid %d\n", static_cast<int>(*pid));
    return false;
  }
  return true;
}

int one_message(const server::Config& c, const QueueArgs& a) {
  const auto& dir = c.spool_dir;
  auto fail = [](const std::string& what) {
    std::fprintf(stderr, "relayscope queue: %s\n", what.c_str());
    return static_cast<int>(exit_failure);
  };
  if (a.id.empty()) {
    std::fprintf(stderr, "relayscope queue: %s needs a queue ID\n", a.action.c_str());
    return exit_usage;
  }
  if (a.action == "delete" && a.id == "ALL") {
    auto ids = server::delete_all_queued(dir);
    if (!ids) return fail(ids.error().message);
    std::printf("deleted %zu message%s\n", ids->size(), ids->size() == 1 ? "" : "s");
    return exit_ok;
  }
  if (!server::valid_queue_id(a.id)) {
    std::fprintf(stderr, "relayscope queue: '%s' is not a queue id\n", a.id.c_str());
    return exit_usage;
  }
  if (a.action == "show") {
    auto text = server::show_queued(dir, a.id);
    if (!text) return fail(text.error().message);
    std::fwrite(text->data(), 1, text->size(), stdout);
    return exit_ok;
  }
  Status s = Ok{};
  if (a.action == "delete") s = server::delete_queued(dir, a.id);
  if (a.action == "hold") s = server::hold_queued(dir, a.id);
  if (a.action == "release") s = server::release_held(dir, a.id);
  if (!s) return fail(s.error().message);
  std::printf("%s: %s\n", a.id.c_str(),
              a.action == "delete" ? "deleted"
              : a.action == "hold" ? "held"
                                   : "released");
  // A running relay takes a released message back at once.
  if (a.action == "release") signal_relay(c, true);
  return exit_ok;
}

std::string when(std::int64_t t) {
  auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

int run(const QueueArgs& a) {
  auto c = server::load_config(a.config);
  if (!c) {
    std::fprintf(stderr, "relayscope queue: %s\n", c.error().message.c_str());
    return exit_usage;
  }
  if (a.action == "flush") {
    if (!a.id.empty()) {
      // The relay retries its whole queue; the ID must at least be in it.
      auto f = server::find_queued(c->spool_dir, a.id);
      if (!f) {
        std::fprintf(stderr, "relayscope queue: %s\n", f.error().message.c_str());
        return exit_failure;
      }
      if (f->held) {
        std::fprintf(stderr, "relayscope queue: %s is held: release it first\n", a.id.c_str());
        return exit_failure;
      }
    }
    if (!signal_relay(*c, false)) return exit_failure;
    std::printf("asked the relay to try %s now\n",
                a.id.empty() ? "its queue" : (a.id + " (and the rest of its queue)").c_str());
    return exit_ok;
  }
  if (a.action != "list") return one_message(*c, a);
  auto entries = server::Spool::list(c->spool_dir);
  if (!entries) {
    std::fprintf(stderr, "relayscope queue: %s\n", entries.error().message.c_str());
    return exit_failure;
  }
  for (const auto& e : *entries) {
    const auto& env = e.envelope;
    // Attempts and the next retry come from the relay's advisory state file;
    // a message not tried yet has none.
    std::string next = e.state.next_retry ? when(e.state.next_retry) : std::string("now");
    std::printf("%s  arrived %s  %llu bytes  from <%s>  attempts %d  next retry %s\n",
                env.id.c_str(), when(env.arrival).c_str(), static_cast<unsigned long long>(e.size),
                env.mail_from.c_str(), e.state.attempts, next.c_str());
    for (const auto& r : env.recipients) {
      auto d = e.done.find(r);
      if (d == e.done.end()) {
        std::printf("    <%s>  pending\n", r.c_str());
      } else {
        std::printf("    <%s>  %s\n", r.c_str(), d->second.c_str());
      }
    }
    if (!e.state.last_error.empty()) {
      std::printf("    last error: %s\n", e.state.last_error.c_str());
    }
  }
  auto held = server::list_held(c->spool_dir);
  if (held) {
    for (const auto& e : *held) {
      std::printf("%s  arrived %s  %llu bytes  from <%s>  HELD (relayscope queue release %s)\n",
                  e.envelope.id.c_str(), when(e.envelope.arrival).c_str(),
                  static_cast<unsigned long long>(e.size), e.envelope.mail_from.c_str(),
                  e.envelope.id.c_str());
      for (const auto& r : e.envelope.recipients) std::printf("    <%s>\n", r.c_str());
    }
  }
  std::printf("%zu message%s in the queue", entries->size(), entries->size() == 1 ? "" : "s");
  if (held && !held->empty()) std::printf(", %zu held", held->size());
  std::printf("\n");
  return exit_ok;
}

}  // namespace

Registered add_queue(CLI::App& parent) {
  auto a = std::make_shared<QueueArgs>();
  auto* app = parent.add_subcommand(
      "queue", "List, show, delete, hold or release the relay's queued mail, or retry it now");
  app->add_option("--config", a->config, "The relay's TOML configuration")
      ->required()
      ->type_name("FILE");
  app->add_option("action", a->action,
                  "list (default), flush [ID], show ID, delete ID|ALL, hold ID, release ID")
      ->check(CLI::IsMember({"list", "flush", "show", "delete", "hold", "release"}));
  app->add_option("ID", a->id, "A queue id (as `queue list` prints it), or ALL for delete");
  describe(app,
           "relayscope queue --config FILE [list]\n"
           "relayscope queue --config FILE flush [ID]\n"
           "relayscope queue --config FILE show|hold|release ID\n"
           "relayscope queue --config FILE delete ID|ALL",
           "  relayscope queue --config /etc/relayscope/relay.toml\n"
           "  relayscope queue --config /etc/relayscope/relay.toml show 6566A1B20F3C40001\n"
           "  relayscope queue --config /etc/relayscope/relay.toml hold 6566A1B20F3C40001\n",
           "0 done; 2 a usage or configuration error, or a malformed ID;\n"
           "1 no such message, or (flush) no relay running");
  return {app, [a] { return run(*a); }};
}

}  // namespace relayscope::cli
