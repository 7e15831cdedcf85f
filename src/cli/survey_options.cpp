// `relayscope survey`'s command-line options (DESIGN.md contract: command
// line), bound to SurveyArgs; their help text is the user's reference.
#include <CLI/CLI.hpp>
#include <string>

#include "cli/survey_args.hpp"
#include "smtp/path.hpp"

namespace relayscope::cli {

void add_survey_options(CLI::App* app, SurveyArgs& args) {
  auto* a = &args;
  auto& o = a->options;
  app->add_option("--targets", o.targets_file,
                  "File of e-mail addresses (one a line, or mbox/header lines); with --domains, "
                  "domains or IP addresses")
      ->check(CLI::ExistingFile);
  app->add_flag("--domains", o.domains_mode,
                "The targets file holds domains or IPs, not addresses");
  app->add_option("--dns", o.dns_servers, "DNS server(s) to query, HOST:PORT (required)")
      ->type_name("HOST:PORT")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--port", o.probe.port, "SMTP port of the probed hosts")
      ->default_val(25)
      ->check(CLI::Range(1, 65535));
  app->add_option("--sample", o.sample, "Probe a seeded random sample of N hosts (0: all)")
      ->default_val(0);
  app->add_option("--seed", o.seed, "Seed of the sample and of MX tie-breaks")->default_val(1);
  app->add_option("--label", o.label, "A label for this run in reports");
  app->add_option("--db", a->db,
                  "Results database: a SQLite file (created if missing) or postgresql://URI (libpq "
                  "takes what it leaves out from PGHOST, PGUSER, PGPASSFILE...)")
      ->required();
  // EHLO names us (RFC 5321 4.1.1.1): a domain or an address literal, never
  // empty; a server may refuse what is neither.
  a->helo_option = app->add_option("--helo", o.probe.client.helo_name,
                                   "Our host name in EHLO/HELO (a domain or an address literal)")
                       ->default_val("relayscope.invalid")
                       ->check([](const std::string& v) {
                         return smtp::parse_host(v)
                                    ? std::string()
                                    : "not a host name or address literal: '" + v + "'";
                       });
  app->add_option("--mail-from", o.probe.mail_from, "Envelope sender (tagged with each token)")
      ->default_val("probe@relayscope.invalid");
  app->add_option("--rcpt-to", o.probe.rcpt_to,
                  "Recipient at a domain the probed hosts are not responsible for: ours")
      ->default_val("relay-test@relayscope.invalid");
  app->add_option("--concurrency", o.concurrency, "Probes at once")->default_val(100);
  app->add_option("--timeout", a->timeout_seconds, "Seconds any one wait may take")
      ->default_val(30);
  app->add_option("--scope", o.scope, "Only touch these CIDRs (default: any)")
      ->type_name("CIDR")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--exclude", a->excludes,
                  "A file of CIDRs (one a line, # comments: opt-out lists) or a CIDR never to "
                  "touch; repeatable, all read before the first packet. Special-purpose ranges "
                  "(RFC 6890: private, loopback, documentation, multicast...) are excluded "
                  "besides, unless a --scope CIDR lies within one")
      ->type_name("FILE|CIDR")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--contact", o.probe.contact,
                  "An address to opt out at and a sentence on the survey, put into the test "
                  "message (body and an X-Relayscope-Contact header)")
      ->type_name("TEXT");
  app->add_option("--rate", o.rate, "At most N new connections per second (0: no limit)")
      ->default_val(0);
  app->add_flag("--no-data", a->no_data, "Stop after RCPT TO (RSET, QUIT): send no message");
  app->add_option("--variants", a->variants, "imc: the IMC's one test; all: every relay trick")
      ->default_val("imc")
      ->check(CLI::IsMember({"imc", "all"}));
  app->add_option("--family", a->family,
                  "Address families probed: 4 (A, the IMC's), 6 (AAAA) or both (each address of "
                  "a host is a row of its own; IPv6 addresses without a route from here drop "
                  "out before the sample)")
      ->type_name("4|6|both")
      ->default_val("4")
      ->check(CLI::IsMember({"4", "6", "both"}));
  app->add_flag("--mx-fallback", o.probe.mx_fallback,
                "On a CONNECT failure, try the higher-numbered MX hosts");
  app->add_option("--resume", a->resume,
                  "Finish an interrupted run of --db (on PostgreSQL: as one --join worker)");
  app->add_flag("--prepare-only", a->prepare_only,
                "Read, resolve and sample, store the hosts, probe nothing; the run's id is the "
                "last line of output: workers then probe it with --join");
  app->add_option("--join", a->join,
                  "Work on run RUN of a shared --db postgresql://...: claim hosts in batches "
                  "with a lease, probe, store, until none is left. The run gives what to probe; "
                  "--helo, --source, --concurrency and --rate are this machine's. On SQLite, "
                  "the same as --resume")
      ->type_name("RUN");
  app->add_option("--source", a->sources,
                  "Our address: probes connect from it; repeatable: probes take turns over the "
                  "addresses of the destination's family (no port reserved per connection: "
                  "IP_BIND_ADDRESS_NO_PORT); give each worker its own")
      ->type_name("ADDR")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--lease", a->lease_seconds,
                  "With --join: seconds a claim lasts unless renewed; a dead worker's hosts "
                  "return to the others after it")
      ->default_val(60);
  app->add_option("--host-timeout", a->host_timeout,
                  "All of one host's time, its variants' reconnections included (e.g. 15m)")
      ->type_name("DURATION")
      ->default_val("15m");
  a->greylist_option =
      app->add_option("--greylist-retry", a->greylist_retry,
                      "A host answering 4xx at RCPT TO is probed once more after this delay, in "
                      "the same run, with the same sender and recipient (0: off); the run waits "
                      "for due retries before it ends")
          ->type_name("DURATION")
          ->default_val("6m");
  app->add_flag("--quiet", a->quiet, "No progress line");
  app->add_option("--jsonl", a->jsonl,
                  "Write one JSON line per finished probe to FILE (- for standard output; the "
                  "summary then goes to standard error), each as it is stored: the fields of "
                  "`report --hosts --format json`, with delivered and bounced null (the collector "
                  "learns them later)")
      ->type_name("FILE|-");
  app->add_option("--metrics", a->metrics,
                  "Serve Prometheus metrics (GET /metrics) on ADDR:PORT while the survey runs: "
                  "probes started, in flight, finished, per second, outcomes by step, store "
                  "writes. With --processes the one endpoint (in the parent) serves the sum of "
                  "all the probing processes; with --join each worker serves its own and the "
                  "run's figures are their sum")
      ->type_name("ADDR:PORT");
  app->add_option("--processes", a->processes,
                  "Probing processes (auto: as many as the open-files limit needs for "
                  "--concurrency, one in the usual case). One process may hold no more "
                  "descriptors than the open-files hard limit (ulimit -Hn, often 20,000), one a "
                  "probe: past it this process prepares the run and writes the store, and N "
                  "children probe, each with --concurrency/N and hosts handed out in batches; "
                  "N may also be the number of cores (a process is one thread of probing). With "
                  "a higher hard limit (ulimit -Hn, LimitNOFILE=) one process does it all")
      ->type_name("N|auto")
      ->default_val("auto");
  app->add_flag("--probing-child", a->probing_child)->group("");
}

}  // namespace relayscope::cli
