// The plan of one lab, pure: from a profile, a size and a seed, which domains
// exist, which resolve (and how the others fail), which host each resolved
// domain leads to, on which loopback address, with which behaviour; and how
// many names each domain has. Counts are exact (largest remainder of share x
// hosts), the order is a seeded shuffle: same inputs, same lab.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "lab/behaviour.hpp"
#include "lab/profile.hpp"

namespace relayscope::lab {

struct PlanOptions {
  std::optional<std::int64_t> domains;  // resolved domains; scales the whole funnel
  std::uint64_t seed = 1;
  std::uint32_t first_address = (127u << 24) | (1u << 16) | 1u;  // 127.1.0.1, host order
};

struct PlannedHost {
  std::uint32_t ip = 0;         // host order
  std::uint32_t backup_ip = 0;  // multi_mx: the higher-numbered MX's address (no listener)
  std::uint32_t domain = 0;     // index into LabPlan::domains
  Behaviour behaviour = Behaviour::relay_denied;
  Resolution resolution = Resolution::mx;
  HostTiming timing;  // the profile's [timing] draw; zero without one
};

// The outcome the survey's plain (IMC) test should give the host on a first
// try: a greylisting host answers 450 at RCPT TO, so TO.
const char* expected_outcome(const PlannedHost& h);

struct PlannedDomain {
  std::string name;
  bool resolved = false;
  Unresolved failure = Unresolved::nxdomain;  // when not resolved
  std::int64_t host = -1;                     // index into LabPlan::hosts when resolved
  std::uint32_t names = 0;                    // addresses at this domain in the names file
};

struct Funnel {
  std::int64_t names = 0;
  std::int64_t unique_domains = 0;
  std::int64_t resolved_domains = 0;
  std::int64_t junk_lines = 0;
};

struct LabPlan {
  std::string profile;
  std::uint64_t seed = 0;
  Funnel funnel;
  Delays delays;
  TimingProfile timing;
  std::vector<PlannedDomain> domains;
  std::vector<PlannedHost> hosts;

  // The host's name: its MX target (or the domain itself for a_only).
  std::string host_name(std::size_t host) const;
  std::string host_ip(std::size_t host) const;
  const std::string& host_domain(std::size_t host) const {
    return domains[hosts[host].domain].name;
  }
  std::map<std::string, std::int64_t> behaviour_counts() const;
  std::map<std::string, std::int64_t> outcome_counts() const;
  std::map<std::string, std::int64_t> unresolved_counts() const;
  std::size_t listener_count() const;  // hosts that listen (all but `refused`)
};

inline constexpr std::int64_t max_lab_domains = 1'000'000;

// Errors: a size out of range, an address range that leaves 127.0.0.0/8.
Expected<LabPlan> make_plan(const Profile& profile, const PlanOptions& options);

std::string ipv4_to_string(std::uint32_t ip);
// Parses a dotted IPv4 address inside 127.0.0.0/8.
Expected<std::uint32_t> parse_loopback_ipv4(const std::string& text);

}  // namespace relayscope::lab
