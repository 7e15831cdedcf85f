// The lab as one object (relayscope lab, relayscope demo, bench/survey-lab):
// from a profile and options it plans the lab, serves its DNS zone and its
// mail hosts on one executor, writes the names file, and keeps the ground
// truth of what its hosts really did. Start it on an io_context's executor,
// run that context, stop() it on the same executor when done; destroy it
// after the context has stopped running its handlers.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "lab/ledger.hpp"
#include "lab/plan.hpp"
#include "lab/profile.hpp"
#include "lab/session.hpp"

namespace relayscope::lab {

struct LabOptions {
  std::string profile = "imc-1999-07";  // a name (searched) or a path to a .toml file
  std::string profiles_dir;             // searched first (--profiles-dir)
  std::optional<std::int64_t> domains;  // resolved domains (= hosts); default: the profile's
  std::uint64_t seed = 1;
  std::string dns = "127.0.0.1:5353";       // ADDR:PORT of the DNS server; port 0: any free
  std::uint16_t port = 2525;                // every host's SMTP port; 0: any free
  std::optional<std::uint16_t> relay_port;  // where relaying hosts deliver (default: port)
  std::string first_address = "127.1.0.1";  // hosts take addresses from here up
  std::vector<std::string> zone_extra;      // records added to the zone ("NAME TYPE DATA")
  std::optional<int> delay_ms;              // overrides the profile's per-reply delay
  std::optional<int> greeting_delay_ms;     // overrides the profile's greeting delay
  SessionLimits limits;
  std::size_t max_sessions = 0;  // 0: from the open-files limit
  // Serve only the hosts whose index i has i % shard_count == shard_index:
  // a lab larger than one process's open-files limit runs as several
  // processes with the same profile and seed (bench/survey-lab).
  std::uint32_t shard_index = 0;
  std::uint32_t shard_count = 1;
  std::chrono::milliseconds delivery_timeout{10000};
};

struct LabState;

// "127.0.0.1:5353" or "[::1]:5353" -> address and port. Loopback only: the
// lab's open relays must never be reachable from the network.
Expected<std::pair<asio::ip::address, std::uint16_t>> parse_loopback_endpoint(
    const std::string& text);

class Lab {
 public:
  // Everything is bound when this returns: DNS answers and hosts accept as
  // soon as the executor runs. Errors: unknown profile (the message lists
  // the known ones), bad options, addresses that cannot be bound, too few
  // open files for the number of hosts.
  static Expected<std::unique_ptr<Lab>> start(asio::any_io_executor executor, LabOptions options);
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  const Profile& profile() const;
  const LabPlan& plan() const;
  std::string dns_endpoint() const;  // "127.0.0.1:5353", with the real port
  std::uint16_t port() const;        // the hosts' port, real
  std::size_t host_count() const;    // resolved domains = mail hosts
  std::size_t listening_count() const;
  // Sessions served at once (more connections wait in the backlog), and the
  // open-files limit they were fitted under beside the listening sockets
  // when LabOptions::max_sessions was 0 (else 0).
  std::size_t max_sessions() const;
  std::uint64_t sessions_fitted_under() const;

  // Adds a record to the zone while the lab runs ("collector.test MX
  // 127.0.0.250", see Zone::add_text). Any thread.
  Status add_record(const std::string& text);

  Status write_names(const std::string& path) const;
  // The ground truth (JSON): per host its address, domain, behaviour, the
  // outcome the survey should give, the fate of accepted mail and what
  // really happened so far. Any thread.
  std::string truth_json() const;
  Status write_truth(const std::string& path) const;
  LedgerTotals totals() const;
  std::size_t pending_deliveries() const;  // outbound jobs queued or running

  // Closes every socket and session; outbound deliveries in flight end by
  // their own timeouts. Call on the executor's thread.
  void stop();

 private:
  explicit Lab(std::shared_ptr<LabState> state);
  std::shared_ptr<LabState> state_;
};

}  // namespace relayscope::lab
