// relayscope queue --config FILE [list|flush]: lists the relay's spool, or
// asks the running relay (SIGUSR1 to the pid in its locked pid file) to try
// every queued message now.
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
    std::printf("%s  %s  %llu bytes  from <%s>\n", env.id.c_str(), when(env.arrival).c_str(),
                static_cast<unsigned long long>(e.size), env.mail_from.c_str());
    for (const auto& r : env.recipients) {
      auto d = e.done.find(r);
      std::printf("    <%s>%s%s\n", r.c_str(), d == e.done.end() ? "" : "  ",
                  d == e.done.end() ? "" : d->second.c_str());
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
