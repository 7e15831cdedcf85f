// relayscope dnsbl export: the open relays found, as a DNS blocklist zone
// (rbldnsd ip4set or BIND), the latest run's word winning.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "common/cidr.hpp"
#include "common/durable_file.hpp"
#include "dnsbl/listing.hpp"
#include "dnsbl/zone_writer.hpp"
#include "store/store.hpp"

namespace relayscope::cli {

namespace {

struct DnsblArgs {
  std::string db;
  std::string format = "rbldnsd";
  std::string zone = "dnsbl.relayscope.test";
  std::string out;
  std::string evidence = "accepted";
  std::string ns_name;
  std::string ns_address = "127.0.0.1";
};

// The one durable write: a zone file is never seen half written.
bool write_atomically(const std::string& path, const std::string& text) {
  DurableOptions o;
  o.mode = 0644;
  o.replace_stale_tmp = true;
  return static_cast<bool>(write_durably(path + ".tmp", path, text, true, o));
}

int run_export(const DnsblArgs& a) {
  if (!std::filesystem::exists(a.db)) {
    std::fprintf(stderr, "relayscope dnsbl export: no database at '%s'\n", a.db.c_str());
    return exit_usage;
  }
  auto db = store::open_store(a.db, store::OpenMode::create);
  if (!db) {
    std::fprintf(stderr, "relayscope dnsbl export: %s\n", db.error().message.c_str());
    return exit_failure;
  }
  auto runs = (*db)->list_runs();
  if (!runs) {
    std::fprintf(stderr, "relayscope dnsbl export: %s\n", runs.error().message.c_str());
    return exit_failure;
  }
  // Oldest first: a later run's word wins.
  std::sort(runs->begin(), runs->end(),
            [](const store::Run& x, const store::Run& y) { return x.id < y.id; });
  dnsbl::ListingBuilder builder(a.evidence == "delivered" ? dnsbl::Evidence::delivered
                                                          : dnsbl::Evidence::accepted);
  for (const auto& run : *runs) {
    auto rows = (*db)->host_rows(run.id);
    if (!rows) {
      std::fprintf(stderr, "relayscope dnsbl export: %s\n", rows.error().message.c_str());
      return exit_failure;
    }
    builder.add_run(run, *rows);
  }
  dnsbl::ZoneOptions o;
  o.zone = a.zone;
  o.ns_name = a.ns_name;
  o.ns_address = a.ns_address;
  std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  o.generated_at = buf;
  o.serial = static_cast<long>(now);
  auto listings = builder.listings();
  auto text =
      a.format == "bind" ? dnsbl::write_bind(listings, o) : dnsbl::write_rbldnsd(listings, o);
  if (a.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else if (!write_atomically(a.out, text)) {
    std::fprintf(stderr, "relayscope dnsbl export: cannot write '%s'\n", a.out.c_str());
    return exit_failure;
  }
  std::fprintf(stderr, "relayscope dnsbl export: %zu open relays listed\n", listings.size());
  if (auto v6 = dnsbl::ipv6_count(listings); v6 > 0 && a.format != "bind") {
    std::fprintf(stderr,
                 "relayscope dnsbl export: %zu of them are IPv6, which an ip4set cannot hold; "
                 "export --format bind to list them\n",
                 v6);
  }
  return exit_ok;
}

}  // namespace

Registered add_dnsbl(CLI::App& parent) {
  auto a = std::make_shared<DnsblArgs>();
  auto* app = parent.add_subcommand("dnsbl", "A DNS blocklist of the open relays found");
  app->require_subcommand(1);
  auto* exp = app->add_subcommand("export", "Write the open relays as a DNSBL zone");
  exp->add_option("--db", a->db, "Results database: a SQLite file or postgresql://URI")->required();
  exp->add_option("--format", a->format, "rbldnsd (ip4set) or bind (zone file)")
      ->default_val("rbldnsd")
      ->check(CLI::IsMember({"rbldnsd", "bind"}));
  exp->add_option("--zone", a->zone, "The DNSBL's zone name")->default_val("dnsbl.relayscope.test");
  exp->add_option("--evidence", a->evidence,
                  "What lists a host: accepted (a relay test went through DATA, the IMC's "
                  "criterion) or delivered (the test message reached the collector)")
      ->default_val("accepted")
      ->check(CLI::IsMember({"accepted", "delivered"}));
  exp->add_option("--ns", a->ns_name, "BIND: the zone's name server (default ns.<zone>)");
  exp->add_option("--ns-address", a->ns_address,
                  "BIND: the address of an in-zone name server (its glue record)")
      ->default_val("127.0.0.1")
      ->check([](const std::string& v) {
        return IpAddress::parse(v) ? std::string() : "not an IP address: " + v;
      });
  exp->add_option("--out", a->out, "Write here (atomically) instead of standard output");
  describe(app, "relayscope dnsbl export --db FILE [--format rbldnsd|bind] [--zone NAME]",
           "  relayscope dnsbl export --db results.db --format rbldnsd --out relays.zone\n");
  describe(exp,
           "relayscope dnsbl export --db FILE [--format rbldnsd|bind] [--zone NAME]\n"
           "                        [--evidence accepted|delivered] [--out FILE]",
           "  relayscope dnsbl export --db results.db --format rbldnsd --out relays.zone\n"
           "  relayscope dnsbl export --db results.db --format bind --evidence delivered\n");
  return {app, [a] { return run_export(*a); }};
}

}  // namespace relayscope::cli
