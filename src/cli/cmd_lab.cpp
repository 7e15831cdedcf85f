// relayscope lab: simulated mail hosts and their DNS on loopback, from a
// profile (DESIGN.md contract: command line). Runs until SIGINT or SIGTERM,
// then stops cleanly and writes the final ground truth.
#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "lab/lab.hpp"
#include "lab/profile.hpp"
#include "report/model.hpp"

namespace relayscope::cli {

namespace {

struct LabArgs {
  lab::LabOptions options;
  std::string names_out;
  std::string truth_out;
  std::string shard;  // "I/N"
  double timeout_seconds = 60;
  int delay_ms = -1;
  int greeting_delay_ms = -1;
  std::int64_t domains = 0;
  bool list_profiles = false;
};

int run(LabArgs& a) {
  auto& o = a.options;
  auto dirs = lab::profile_search_path(o.profiles_dir);
  if (a.list_profiles) {
    // Name and description, one a line (the description as the profile gives it).
    for (const auto& name : lab::known_profiles(dirs)) {
      auto p = lab::find_profile(name, dirs);
      std::string what = p ? p->description : "(does not load: " + p.error().message + ")";
      auto nl = what.find('\n');
      if (nl != std::string::npos) what = what.substr(0, nl);
      std::printf("%-16s %s\n", name.c_str(), what.c_str());
    }
    return exit_ok;
  }
  if (auto p = lab::find_profile(o.profile, dirs); !p) {
    std::fprintf(stderr, "relayscope lab: %s\n", p.error().message.c_str());
    return exit_usage;
  }
  if (auto d = lab::parse_loopback_endpoint(o.dns); !d) {
    std::fprintf(stderr, "relayscope lab: %s\n", d.error().message.c_str());
    return exit_usage;
  }
  if (auto f = lab::parse_loopback_ipv4(o.first_address); !f) {
    std::fprintf(stderr, "relayscope lab: --first-address: %s\n", f.error().message.c_str());
    return exit_usage;
  }
  if (a.timeout_seconds <= 0 || a.timeout_seconds > 3600) {
    std::fprintf(stderr, "relayscope lab: --timeout must be between 0 and 3600 seconds\n");
    return exit_usage;
  }
  if (a.domains < 0 || a.domains > lab::max_lab_domains) {
    std::fprintf(stderr, "relayscope lab: --domains must be between 1 and %lld\n",
                 static_cast<long long>(lab::max_lab_domains));
    return exit_usage;
  }
  if (!a.shard.empty()) {
    unsigned i = 0, n = 0;
    char extra = 0;
    if (std::sscanf(a.shard.c_str(), "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || i >= n) {
      std::fprintf(stderr, "relayscope lab: --shard wants I/N with I < N, e.g. 0/3\n");
      return exit_usage;
    }
    o.shard_index = i;
    o.shard_count = n;
  }
  if (a.domains > 0) o.domains = a.domains;
  if (a.delay_ms >= 0) o.delay_ms = a.delay_ms;
  if (a.greeting_delay_ms >= 0) o.greeting_delay_ms = a.greeting_delay_ms;
  o.limits.command_timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_seconds * 1000));

  // The hosts run the one server session (src/smtpd), which logs what a
  // real server would at info; a simulator's hosts stay quiet but for
  // warnings.
  spdlog::set_level(spdlog::level::warn);
  asio::io_context io;
  auto started = lab::Lab::start(io.get_executor(), o);
  if (!started) {
    std::fprintf(stderr, "relayscope lab: %s\n", started.error().message.c_str());
    return exit_failure;
  }
  auto& lab = **started;
  const auto& plan = lab.plan();
  if (!a.names_out.empty()) {
    if (auto ok = lab.write_names(a.names_out); !ok) {
      std::fprintf(stderr, "relayscope lab: %s\n", ok.error().message.c_str());
      lab.stop();
      return exit_failure;
    }
  }
  auto write_truth = [&] {
    if (a.truth_out.empty()) return true;
    if (auto ok = lab.write_truth(a.truth_out); !ok) {
      std::fprintf(stderr, "relayscope lab: %s\n", ok.error().message.c_str());
      return false;
    }
    return true;
  };
  if (!write_truth()) {
    lab.stop();
    return exit_failure;
  }

  std::string first = plan.hosts.empty() ? "-" : plan.host_ip(0);
  std::string last = plan.hosts.empty() ? "-" : plan.host_ip(plan.hosts.size() - 1);
  std::printf("relayscope lab: profile %s, seed %llu\n", plan.profile.c_str(),
              static_cast<unsigned long long>(plan.seed));
  std::printf("DNS server: %s (UDP and TCP), zone .test, %lld domains\n",
              lab.dns_endpoint().c_str(), static_cast<long long>(plan.funnel.unique_domains));
  std::printf("mail hosts: %zu on port %u (%s .. %s), %zu listening, %zu sessions at once\n",
              lab.host_count(), static_cast<unsigned>(lab.port()), first.c_str(), last.c_str(),
              lab.listening_count(), lab.max_sessions());
  // Each listening host holds a descriptor: with thousands of them, the
  // open-files limit leaves little for sessions, and a survey's connections
  // then wait in the backlog until their greeting times out (wrong outcomes
  // that are the lab's, not the survey's). Say so before anyone surveys.
  if (auto limit = lab.sessions_fitted_under(); limit != 0 && lab.max_sessions() < 1024) {
    std::fprintf(stderr,
                 "relayscope lab: warning: only %zu sessions at once fit under the open-files "
                 "limit (%llu) beside %zu listening sockets; connections beyond wait in the "
                 "backlog: split the hosts over more --shard processes\n",
                 lab.max_sessions(), static_cast<unsigned long long>(limit), lab.listening_count());
  }
  if (!a.names_out.empty()) {
    std::printf("names file: %s (%s, %s)\n", a.names_out.c_str(),
                report::plural_count(plan.funnel.names, "name", "names").c_str(),
                report::plural_count(plan.funnel.junk_lines, "junk line", "junk lines").c_str());
  }
  if (!a.truth_out.empty()) std::printf("ground truth: %s\n", a.truth_out.c_str());
  std::printf("ready; Ctrl-C or SIGTERM stops the lab\n");
  std::fflush(stdout);

  // The truth file follows what the hosts do (rewritten when it changed).
  asio::steady_timer refresh(io);
  std::uint64_t last_events = 0;
  std::function<void()> schedule = [&] {
    refresh.expires_after(std::chrono::seconds(5));
    refresh.async_wait([&](const std::error_code& ec) {
      if (ec) return;
      std::uint64_t n = 0;
      for (const auto& [k, v] : lab.totals().events) n += static_cast<std::uint64_t>(v);
      if (n != last_events) {
        last_events = n;
        write_truth();
      }
      schedule();
    });
  };
  if (!a.truth_out.empty()) schedule();

  bool stopping = false;
  asio::steady_timer grace(io);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    stopping = true;
    std::fprintf(stderr, "relayscope lab: stopping\n");
    refresh.cancel();
    lab.stop();
    // Deliveries already under way get a moment to finish, then the loop ends.
    grace.expires_after(std::chrono::seconds(2));
    grace.async_wait([&](const std::error_code&) { io.stop(); });
    signals.async_wait([&](const std::error_code& e, int) {
      if (!e) io.stop();  // a second signal: at once
    });
  });
  // Ends early when nothing is left to do after stop().
  asio::steady_timer idle(io);
  std::function<void()> watch = [&] {
    idle.expires_after(std::chrono::milliseconds(50));
    idle.async_wait([&](const std::error_code& ec) {
      if (ec) return;
      if (stopping && lab.pending_deliveries() == 0) {
        io.stop();
        return;
      }
      watch();
    });
  };
  watch();
  io.run();
  bool ok = write_truth();
  return ok ? exit_ok : exit_failure;
}

}  // namespace

Registered add_lab(CLI::App& parent) {
  auto a = std::make_shared<LabArgs>();
  auto& o = a->options;
  auto* app = parent.add_subcommand(
      "lab", "Simulated mail hosts and their DNS server on loopback, from a profile");
  app->add_option("--profile", o.profile,
                  "Profile name (imc-1998-01, imc-1998-07, imc-1999-07, modern, hostile) or a "
                  ".toml file")
      ->default_val("imc-1999-07");
  app->add_option("--domains", a->domains,
                  "Scale the profile to N resolved domains (= mail hosts), keeping its shares");
  app->add_option("--dns", o.dns, "Address and port of the lab's DNS server (port 0: any)")
      ->default_val("127.0.0.1:5353");
  app->add_option("--port", o.port, "SMTP port of every mail host (0: any free port)")
      ->default_val(2525);
  app->add_option("--names-out", a->names_out, "Write the names file (e-mail addresses) here");
  app->add_option("--seed", o.seed, "Seed of the assignment of behaviours and of the names")
      ->default_val(1);
  app->add_option("--truth-out", a->truth_out,
                  "Write the ground truth (JSON: every host's behaviour, expected outcome and "
                  "what it really did) here; kept up to date while the lab runs");
  app->add_option("--profiles-dir", o.profiles_dir,
                  "Look for profiles here first (then $RELAYSCOPE_DATA_DIR/profiles, the "
                  "source tree, the built-in copies)");
  app->add_option("--zone-extra", o.zone_extra,
                  "Add a DNS record, \"NAME TYPE DATA\" (\"collector.test MX 127.0.0.250\" "
                  "makes an MX host at that address); repeatable")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--relay-port", o.relay_port,
                  "Port where relaying hosts deliver (default: --port)");
  app->add_option("--first-address", o.first_address,
                  "Hosts take loopback addresses from this one up")
      ->default_val("127.1.0.1");
  app->add_option("--delay-ms", a->delay_ms,
                  "Delay before every reply, as Internet latency (overrides the profile)");
  app->add_option("--greeting-delay-ms", a->greeting_delay_ms,
                  "Delay before every greeting (overrides the profile)");
  app->add_option("--timeout", a->timeout_seconds,
                  "Seconds a host waits for a client's next command before it hangs up")
      ->default_val(60);
  app->add_option("--shard", a->shard,
                  "I/N: serve only every N-th host, from the I-th (several processes, one lab: "
                  "each listening host holds a descriptor, and the lab warns when the "
                  "open-files limit leaves it fewer than 1,024 sessions at once)")
      ->type_name("I/N");
  app->add_flag("--list-profiles", a->list_profiles,
                "Print the known profiles with their descriptions and exit");
  describe(app,
           "relayscope lab [--profile NAME|FILE] [--domains N] [--dns ADDR:PORT] [--port N]\n"
           "               [--names-out FILE] [--truth-out FILE] [options]\n"
           "relayscope lab --list-profiles",
           "  relayscope lab --list-profiles\n"
           "  relayscope lab --profile imc-1999-07 --dns 127.0.0.1:5353 --port 2525 "
           "--names-out names.txt\n",
           "0 stopped by SIGTERM or Ctrl-C after serving; 2 a usage error (unknown profile,\n"
           "an address outside 127.0.0.0/8); 1 any other failure");
  return {app, [a] { return run(*a); }};
}

}  // namespace relayscope::cli
