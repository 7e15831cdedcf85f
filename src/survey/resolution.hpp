// Step 2: every domain to its mail host (lowest-numbered MX, then its
// address; the domain's own A record only when there is no MX), with the
// reason kept for each discard; then the unique hosts (one per address, with
// the domains that led to it).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "net/scope_guard.hpp"
#include "store/store.hpp"

namespace relayscope::survey {

struct ResolutionConfig {
  std::vector<std::string> dns_servers;
  std::chrono::milliseconds timeout{3000};
  int tries = 2;
  std::size_t concurrency = 500;
  std::uint64_t seed = 1;       // MX tie-breaks
  bool want_fallbacks = false;  // look up the higher-numbered MX hosts too (--mx-fallback)
  bool want_v4 = true;          // --family 4|6|both: A, AAAA or both
  bool want_v6 = false;
};

// With both families a mail host may have two addresses: the resolution row
// keeps one (`ip`, in scope if either is; its detail names the other) and
// `more_ips`, when given, receives the others per domain (same index), each
// to be probed as a host of its own.
asio::awaitable<Expected<std::vector<store::Resolution>>> resolve_domains(
    const std::vector<store::Domain>& domains, const ResolutionConfig& config,
    const net::ScopeGuard& scope, const bool& stop,
    std::vector<std::vector<std::string>>* more_ips = nullptr);

// Unique hosts by address, sorted by address; `direct_ips` (bare IPs given as
// targets) become hosts of their own, and so do `more_ips` (resolve_domains'
// other-family addresses). A host's fallback addresses are of its own
// family. Addresses outside the scope were already discarded by
// resolve_domains (a more_ips address is checked by the caller).
std::vector<store::Host> group_into_hosts(
    const std::vector<store::Resolution>& resolutions, const std::vector<std::string>& direct_ips,
    const std::vector<std::vector<std::string>>& more_ips = {});

}  // namespace relayscope::survey
