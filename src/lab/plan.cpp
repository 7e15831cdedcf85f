// See plan.hpp.
#include "lab/plan.hpp"

#include <algorithm>
#include <asio/ip/address_v4.hpp>
#include <cmath>
#include <cstdio>

#include "lab/rng.hpp"

namespace relayscope::lab {

std::string ipv4_to_string(std::uint32_t ip) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
                ip & 255);
  return buf;
}

Expected<std::uint32_t> parse_loopback_ipv4(const std::string& text) {
  std::error_code ec;
  auto a = asio::ip::make_address_v4(text, ec);
  if (ec) return make_error("not an IPv4 address: " + text);
  auto v = a.to_uint();
  if ((v >> 24) != 127) return make_error(text + " is not a loopback address (127.0.0.0/8)");
  return v;
}

namespace {

// The next address for a host: skips .0 and .255 so that no host sits on a
// network or broadcast-looking address.
std::uint32_t next_address(std::uint32_t a) {
  do {
    ++a;
  } while ((a & 255) == 0 || (a & 255) == 255);
  return a;
}

std::int64_t scaled(std::int64_t value, double factor) {
  return static_cast<std::int64_t>(std::llround(static_cast<double>(value) * factor));
}

}  // namespace

std::string LabPlan::host_name(std::size_t host) const {
  const auto& h = hosts[host];
  const auto& d = domains[h.domain].name;
  switch (h.resolution) {
    case Resolution::a_only:
      return d;
    case Resolution::equal_pref:
      return "mx1." + d;
    default:
      return "mx." + d;
  }
}

std::string LabPlan::host_ip(std::size_t host) const {
  return ipv4_to_string(hosts[host].ip);
}

std::map<std::string, std::int64_t> LabPlan::behaviour_counts() const {
  std::map<std::string, std::int64_t> out;
  for (const auto& h : hosts) ++out[info(h.behaviour).name];
  return out;
}

const char* expected_outcome(const PlannedHost& h) {
  return h.timing.greylist ? "TO" : info(h.behaviour).outcome;
}

std::map<std::string, std::int64_t> LabPlan::outcome_counts() const {
  std::map<std::string, std::int64_t> out;
  for (const auto& h : hosts) ++out[expected_outcome(h)];
  return out;
}

std::map<std::string, std::int64_t> LabPlan::unresolved_counts() const {
  std::map<std::string, std::int64_t> out;
  for (const auto& d : domains) {
    if (!d.resolved) ++out[to_string(d.failure)];
  }
  return out;
}

std::size_t LabPlan::listener_count() const {
  return static_cast<std::size_t>(std::count_if(
      hosts.begin(), hosts.end(), [](const PlannedHost& h) { return has_listener(h.behaviour); }));
}

Expected<LabPlan> make_plan(const Profile& profile, const PlanOptions& options) {
  LabPlan plan;
  plan.profile = profile.name;
  plan.seed = options.seed;
  plan.delays = profile.delays;
  plan.timing = profile.timing;

  // The funnel, scaled to the requested number of resolved domains.
  Funnel f{profile.names, profile.unique_domains, profile.resolved_domains, profile.junk_lines};
  if (options.domains) {
    if (*options.domains < 1 || *options.domains > max_lab_domains) {
      return make_error("--domains must be between 1 and " + std::to_string(max_lab_domains));
    }
    double factor = static_cast<double>(*options.domains) / static_cast<double>(f.resolved_domains);
    f.resolved_domains = *options.domains;
    f.unique_domains = std::max(f.resolved_domains, scaled(profile.unique_domains, factor));
    if (profile.unique_domains > profile.resolved_domains && factor >= 0.01) {
      // Keep at least one unresolved domain so the funnel's every step shows.
      f.unique_domains = std::max(f.unique_domains, f.resolved_domains + 1);
    }
    f.names = std::max(f.unique_domains, scaled(profile.names, factor));
    f.junk_lines =
        profile.junk_lines > 0 ? std::max<std::int64_t>(1, scaled(profile.junk_lines, factor)) : 0;
  }
  if (f.unique_domains > max_lab_domains) {
    return make_error("the lab would have " + std::to_string(f.unique_domains) +
                      " domains; at most " + std::to_string(max_lab_domains));
  }
  plan.funnel = f;
  const auto n_hosts = static_cast<std::size_t>(f.resolved_domains);
  const auto n_domains = static_cast<std::size_t>(f.unique_domains);

  // Addresses: one per host, then one per multi_mx backup; all in 127/8.
  {
    std::uint64_t last = options.first_address;
    // A generous bound: the skipped .0/.255 cost under 1%.
    last += (n_hosts * 2) + (n_hosts * 2) / 100 + 4;
    if ((options.first_address >> 24) != 127 || (last >> 24) != 127) {
      return make_error("the host addresses from " + ipv4_to_string(options.first_address) +
                        " would leave 127.0.0.0/8; choose a lower first address");
    }
  }

  // Behaviours: exact counts per outcome group, then per behaviour within it.
  std::vector<Behaviour> behaviours;
  behaviours.reserve(n_hosts);
  {
    std::vector<double> shares;
    for (const auto& g : profile.groups) shares.push_back(g.share);
    auto group_counts = largest_remainder(shares, f.resolved_domains);
    for (std::size_t gi = 0; gi < profile.groups.size(); ++gi) {
      const auto& g = profile.groups[gi];
      std::vector<double> ws;
      for (const auto& [b, w] : g.behaviours) ws.push_back(w);
      auto counts = largest_remainder(ws, group_counts[gi]);
      for (std::size_t bi = 0; bi < g.behaviours.size(); ++bi) {
        behaviours.insert(behaviours.end(), static_cast<std::size_t>(counts[bi]),
                          g.behaviours[bi].first);
      }
    }
  }
  Rng(options.seed, "behaviours").shuffle(behaviours);

  std::vector<Resolution> resolutions;
  resolutions.reserve(n_hosts);
  {
    std::vector<double> ws;
    for (const auto& [r, w] : profile.resolution) ws.push_back(w);
    auto counts = largest_remainder(ws, f.resolved_domains);
    for (std::size_t i = 0; i < counts.size(); ++i) {
      resolutions.insert(resolutions.end(), static_cast<std::size_t>(counts[i]),
                         profile.resolution[i].first);
    }
  }
  Rng(options.seed, "resolution").shuffle(resolutions);

  std::vector<Unresolved> failures;
  {
    std::vector<double> ws;
    for (const auto& [u, w] : profile.unresolved) ws.push_back(w);
    auto counts = largest_remainder(ws, f.unique_domains - f.resolved_domains);
    for (std::size_t i = 0; i < counts.size(); ++i) {
      failures.insert(failures.end(), static_cast<std::size_t>(counts[i]),
                      profile.unresolved[i].first);
    }
  }
  Rng(options.seed, "failures").shuffle(failures);

  // Which domains resolve: a seeded choice, so resolved and unresolved names
  // interleave as in a real list.
  std::vector<char> resolved(n_domains, 0);
  std::fill(resolved.begin(), resolved.begin() + static_cast<std::ptrdiff_t>(n_hosts), 1);
  Rng(options.seed, "resolved").shuffle(resolved);

  int width = 1;
  for (std::size_t v = n_domains; v >= 10; v /= 10) ++width;
  width = std::max(width, 5);
  plan.domains.resize(n_domains);
  plan.hosts.resize(n_hosts);
  std::uint32_t address = options.first_address;
  std::size_t next_host = 0, next_failure = 0;
  for (std::size_t i = 0; i < n_domains; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "d%0*zu.test", width, i + 1);
    auto& d = plan.domains[i];
    d.name = name;
    d.resolved = resolved[i] != 0;
    if (d.resolved) {
      auto& h = plan.hosts[next_host];
      h.ip = address;
      address = next_address(address);
      h.domain = static_cast<std::uint32_t>(i);
      h.behaviour = behaviours[next_host];
      h.resolution = resolutions[next_host];
      d.host = static_cast<std::int64_t>(next_host++);
    } else {
      d.failure = failures[next_failure++];
    }
  }
  for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
    auto& h = plan.hosts[i];
    h.timing = draw_host_timing(profile.timing, options.seed, i, greylistable(h.behaviour));
  }
  for (auto& h : plan.hosts) {
    if (h.resolution == Resolution::multi_mx) {
      h.backup_ip = address;
      address = next_address(address);
    }
  }

  // Names per domain: one each, the rest heavy-tailed (Zipf over a seeded
  // ranking), as the member lists of mailing lists are.
  {
    std::vector<std::size_t> rank(n_domains);
    for (std::size_t i = 0; i < n_domains; ++i) rank[i] = i;
    Rng(options.seed, "names").shuffle(rank);
    std::vector<double> ws(n_domains);
    for (std::size_t r = 0; r < n_domains; ++r) {
      ws[r] = 1.0 / std::pow(static_cast<double>(r + 1), profile.zipf);
    }
    auto extra = largest_remainder(ws, f.names - f.unique_domains);
    for (std::size_t r = 0; r < n_domains; ++r) {
      plan.domains[rank[r]].names = static_cast<std::uint32_t>(1 + extra[r]);
    }
  }
  return plan;
}

}  // namespace relayscope::lab
