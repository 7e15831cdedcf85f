// relayscope demo: the README's main command. A lab of simulated mail hosts
// with the IMC's July 1999 shares, on loopback, surveyed the IMC's way.
#include <unistd.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "demo/demo.hpp"

namespace relayscope::cli {

Registered add_demo(CLI::App& parent) {
  auto o = std::make_shared<demo::DemoOptions>();
  auto timeout = std::make_shared<double>(5.0);
  auto* app = parent.add_subcommand(
      "demo",
      "Survey a lab of simulated mail hosts on loopback the IMC's way, beside the IMC's "
      "own July 1999 figures");
  app->add_option("--sample", o->sample, "Hosts to probe")
      ->default_val(500)
      ->check(CLI::Range(1, 1000000));
  app->add_option("--seed", o->seed, "Seed of the lab and of the sample")->default_val(1999);
  app->add_option("--profile", o->profile, "Lab profile")->default_val("imc-1999-07");
  app->add_option("--timeout", *timeout, "Seconds any one wait of a probe may take")
      ->default_val(5.0)
      ->check(CLI::Range(0.1, 300.0));
  app->add_option("--concurrency", o->concurrency, "Probes at once")
      ->default_val(250)
      ->check(CLI::Range(1, 100000));
  app->add_option("--db", o->db, "Keep the results in this database (default: a temporary one)");
  app->add_option("--truth-out", o->truth_out, "Write the lab's ground truth (JSON) here");
  app->add_option("--profiles-dir", o->profiles_dir, "Look for lab profiles here first");
  describe(app, "relayscope demo [--sample N] [--seed S] [--profile NAME] [--db FILE]",
           "  relayscope demo\n  relayscope demo --sample 2000 --seed 7\n",
           "0 done; 2 a usage error; 1 any other failure;\n"
           "130 stopped by Ctrl-C or SIGTERM (temporary files removed)");
  return {app, [o, timeout] {
            o->timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*timeout * 1000));
            o->progress = isatty(STDERR_FILENO);
            o->handle_signals = true;
            o->on_started = [] {
              std::printf("surveying the lab; Ctrl-C stops the demo\n\n");
              std::fflush(stdout);
            };
            std::printf(
                "relayscope demo: a lab of mail hosts with profile %s on 127.0.0.0/8, "
                "surveyed the IMC's way (sample %zu, seed %llu)\n",
                o->profile.c_str(), o->sample, static_cast<unsigned long long>(o->seed));
            std::fflush(stdout);
            auto r = demo::run_demo(*o);
            if (!r) {
              std::fprintf(stderr, "relayscope demo: %s\n", r.error().message.c_str());
              return exit_failure;
            }
            if (r->interrupted) {
              std::fprintf(stderr, "relayscope demo: interrupted\n");
              return exit_interrupted;
            }
            std::printf("%s", r->table.c_str());
            if (!o->db.empty()) {
              std::printf("\nResults kept in %s (run %lld): relayscope report --db %s\n",
                          o->db.c_str(), static_cast<long long>(r->run_id), o->db.c_str());
            }
            return exit_ok;
          }};
}

}  // namespace relayscope::cli
