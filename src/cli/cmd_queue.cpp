// relayscope queue --config FILE [list|flush]: lists the relay's spool (id,
// arrival, size, sender, attempts, next retry, each recipient's state, last
// error), or asks the running relay (SIGUSR1 to the pid in its locked pid
// file) to try every queued message now. Listing reads files only: it works
// with the relay stopped, and never changes the spool.
#include <signal.h>

#include <cstdio>
#include <ctime>

#include "cli/commands.hpp"
#include "server/config.hpp"
#include "server/pidfile.hpp"
#include "server/spool.hpp"

namespace relayscope::cli {

namespace {

struct QueueArgs {
  std::string config;
  std::string action = "list";
};

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
    auto pid = server::running_server(c->pidfile);
    if (!pid) {
      std::fprintf(stderr, "relayscope queue: %s\n", pid.error().message.c_str());
      return exit_failure;
    }
    if (::kill(*pid, SIGUSR1) != 0) {
      std::fprintf(stderr, "relayscope queue: cannot signal pid %d\n", static_cast<int>(*pid));
      return exit_failure;
    }
    std::printf("asked the relay (pid %d) to flush its queue\n", static_cast<int>(*pid));
    return exit_ok;
  }
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
  std::printf("%zu message%s in the queue\n", entries->size(), entries->size() == 1 ? "" : "s");
  return exit_ok;
}

}  // namespace

Registered add_queue(CLI::App& parent) {
  auto a = std::make_shared<QueueArgs>();
  auto* app = parent.add_subcommand("queue", "List the relay's queue, or make it retry now");
  app->add_option("--config", a->config, "The relay's TOML configuration")->required();
  app->add_option("action", a->action, "list (default) or flush")
      ->check(CLI::IsMember({"list", "flush"}));
  return {app, [a] { return run(*a); }};
}

}  // namespace relayscope::cli
