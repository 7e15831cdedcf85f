// Resolver::resolve_mail_host: a domain's mail host by the IMC's rule
// (DESIGN.md step 2), with the reason kept for every discard. Sequential
// lookups per domain; a survey runs many domains at once.
#include <algorithm>

#include "dns/resolver.hpp"
#include "dns/resolver_state.hpp"

namespace relayscope::dns {

namespace {

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

// A host's addresses in the families the run probes (A, AAAA or both).
// ok when any family gave one; otherwise the first family's failure.
asio::awaitable<AddressAnswer> host_addresses(std::shared_ptr<ResolverState> state,
                                              const std::string& name, std::string& v6_choice,
                                              std::uint64_t seed) {
  v6_choice.clear();
  AddressAnswer v4;
  if (state->config.want_v4) v4 = co_await do_a(state, name);
  if (!state->config.want_v6) co_return v4;
  auto v6 = co_await do_aaaa(state, name);
  if (v6.status == DnsStatus::ok && !v6.addresses.empty()) {
    v6_choice = choose_address(v6.addresses, name, seed);
  }
  if (!state->config.want_v4) {
    if (!v6_choice.empty()) v6.addresses = {v6_choice};
    co_return v6;
  }
  if (v4.status == DnsStatus::ok && !v4.addresses.empty()) co_return v4;
  if (!v6_choice.empty()) {
    v6.addresses = {v6_choice};
    v6_choice.clear();  // the only address: it is the host's ip
    co_return v6;
  }
  // Neither: a name with no A is only "nodata" when it has no AAAA either.
  if (v4.status == DnsStatus::nodata && v6.status != DnsStatus::nodata) co_return v6;
  co_return v4;
}

// The address records asked for, in words: "A", "AAAA" or "A or AAAA".
std::string record_words(const ResolverState& state) {
  if (!state.config.want_v6) return "A";
  return state.config.want_v4 ? "A or AAAA" : "AAAA";
}

// The chosen address(es) of one host into `host`: ip, and ips with both.
void take_addresses(MailHost& host, const AddressAnswer& a, const std::string& v6_choice,
                    const std::string& name, std::uint64_t seed) {
  host.ip = choose_address(a.addresses, name, seed);
  host.ips = {host.ip};
  if (!v6_choice.empty()) host.ips.push_back(v6_choice);
}

asio::awaitable<MailHost> implicit_mx(std::shared_ptr<ResolverState> state,
                                      const std::string& domain, std::uint64_t seed,
                                      const std::string& mx_detail) {
  MailHost host;
  std::string v6;
  auto a = co_await host_addresses(state, domain, v6, seed);
  if (a.status == DnsStatus::ok) {
    host.status = DnsStatus::ok;
    take_addresses(host, a, v6, domain, seed);
    host.detail = "no MX: the domain's own " + record_words(*state) + " record (RFC 5321 5.1)";
    co_return host;
  }
  host.status = a.status;
  host.detail = mx_detail + "; " + a.detail;
  if (a.status == DnsStatus::nodata) {
    host.detail = "no MX and no " + record_words(*state) + " record for " + domain;
  }
  co_return host;
}

}  // namespace

asio::awaitable<MailHost> do_mail_host(std::shared_ptr<ResolverState> state, std::string domain,
                                       std::uint64_t seed) {
  domain = normalize_name(domain);
  MailHost host;
  if (auto ip = IpAddress::parse(domain)) {
    // `--domains` may give hosts by address: nothing to resolve.
    if (ip->is_v4 ? state->config.want_v4 : state->config.want_v6) {
      host.status = DnsStatus::ok;
      host.ip = ip->to_string();
      host.ips = {host.ip};
      host.detail =
          ip->is_v4 ? "an IPv4 address, given directly" : "an IPv6 address, given directly";
    } else {
      host.detail = ip->is_v4 ? "an IPv4 address: only IPv6 is probed (--family 6)"
                              : "an IPv6 address: only IPv4 is probed (--family 4)";
    }
    co_return host;
  }

  auto mx = co_await do_mx(state, domain);
  if (mx.status == DnsStatus::nodata) {
    co_return co_await implicit_mx(state, domain, seed, mx.detail);
  }
  if (mx.status != DnsStatus::ok) {
    host.status = mx.status;
    host.detail = mx.detail;
    co_return host;
  }
  if (is_null_mx(mx.records)) {
    host.status = DnsStatus::null_mx;
    host.detail = "null MX (RFC 7505): " + domain + " accepts no mail";
    co_return host;
  }

  auto order = order_mx(mx.records, domain, seed);
  if (order.size() > state->config.max_mx_hosts) order.resize(state->config.max_mx_hosts);
  std::vector<std::string> notes;
  std::vector<DnsStatus> failures;  // of the hosts' A lookups
  std::size_t chosen = order.size();
  for (std::size_t i = 0; i < order.size() && chosen == order.size(); ++i) {
    const auto& r = order[i];
    if (is_ip_literal_target(r.host)) {
      notes.push_back("MX " + r.host + " (preference " + std::to_string(r.preference) +
                      ") is an IP address, not a host name: skipped");
      continue;
    }
    std::string v6;
    auto a = co_await host_addresses(state, r.host, v6, seed);
    if (a.status == DnsStatus::ok && !a.addresses.empty()) {
      chosen = i;
      host.status = DnsStatus::ok;
      host.mx_host = r.host;
      host.preference = r.preference;
      take_addresses(host, a, v6, r.host, seed);
    } else {
      failures.push_back(a.status);
      notes.push_back("MX " + r.host + ": " + std::string(to_string(a.status)) + " (" + a.detail +
                      ")");
    }
  }
  if (chosen == order.size()) {
    // One failure shared by every host (all timed out, say) is the reason;
    // otherwise (no such host, no A, IP literals, mixed) it is no_address.
    host.status = DnsStatus::no_address;
    const bool same = !failures.empty() && failures.size() == order.size() &&
                      std::all_of(failures.begin(), failures.end(),
                                  [&](DnsStatus f) { return f == failures.front(); });
    if (same && failures.front() != DnsStatus::nxdomain && failures.front() != DnsStatus::nodata) {
      host.status = failures.front();
    }
    const char* family = !state->config.want_v6   ? "an IPv4 address"
                         : !state->config.want_v4 ? "an IPv6 address"
                                                  : "an address";
    notes.insert(notes.begin(), "no MX host of " + domain + " has " + family);
    host.detail = join(notes);
    co_return host;
  }
  notes.push_back("MX " + host.mx_host + " (preference " + std::to_string(host.preference) + ")");
  host.detail = join(notes);

  // Addresses of the hosts after the chosen one, for a retry on CONNECT
  // failure (--mx-fallback); max_fallbacks = 0 skips these lookups.
  for (std::size_t i = chosen + 1;
       i < order.size() && host.fallback_ips.size() < state->config.max_fallbacks; ++i) {
    if (is_ip_literal_target(order[i].host)) continue;
    std::string v6;
    auto a = co_await host_addresses(state, order[i].host, v6, seed);
    if (a.status != DnsStatus::ok || a.addresses.empty()) continue;
    // Each family's address: a host probed over IPv6 falls back over IPv6.
    std::vector<std::string> found{choose_address(a.addresses, order[i].host, seed)};
    if (!v6.empty()) found.push_back(v6);
    for (auto& ip : found) {
      if (std::find(host.ips.begin(), host.ips.end(), ip) != host.ips.end() ||
          std::find(host.fallback_ips.begin(), host.fallback_ips.end(), ip) !=
              host.fallback_ips.end()) {
        continue;
      }
      host.fallback_ips.push_back(std::move(ip));
    }
  }
  co_return host;
}

asio::awaitable<MailHost> Resolver::resolve_mail_host(std::string domain, std::uint64_t tie_seed) {
  return do_mail_host(state_, std::move(domain), tie_seed);
}

}  // namespace relayscope::dns
