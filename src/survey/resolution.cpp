// See resolution.hpp. The resolver's own rules (MX order, null MX, the A
// fallback) live in src/dns; this file only fans the domains out over a
// bounded number of concurrent lookups and groups the answers into hosts.
#include "survey/resolution.hpp"

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>
#include <map>

#include "common/cidr.hpp"
#include "dns/resolver.hpp"

namespace relayscope::survey {

asio::awaitable<Expected<std::vector<store::Resolution>>> resolve_domains(
    const std::vector<store::Domain>& domains, const ResolutionConfig& config,
    const net::ScopeGuard& scope, const bool& stop,
    std::vector<std::vector<std::string>>* more_ips) {
  auto ex = co_await asio::this_coro::executor;
  dns::ResolverConfig rc;
  rc.servers = config.dns_servers;
  rc.timeout = config.timeout;
  rc.tries = config.tries;
  rc.scope = scope;
  rc.max_fallbacks = config.want_fallbacks ? 5 : 0;
  rc.want_v4 = config.want_v4;
  rc.want_v6 = config.want_v6;
  if (more_ips) more_ips->assign(domains.size(), {});
  auto resolver = dns::Resolver::create(ex, rc);
  if (!resolver) co_return resolver.error();

  std::vector<store::Resolution> out(domains.size());
  std::size_t next = 0;
  std::size_t running = 0;
  asio::steady_timer done(ex, asio::steady_timer::time_point::max());
  auto worker = [&]() -> asio::awaitable<void> {
    while (next < domains.size() && !stop) {
      auto i = next++;
      auto mh = co_await resolver->resolve_mail_host(domains[i].name, config.seed);
      auto& r = out[i];
      r.domain = domains[i].name;
      r.status = std::string(dns::to_string(mh.status));
      r.mx_host = mh.mx_host;
      r.mx_preference = mh.preference;
      r.ip = mh.ip;
      r.fallback_ips = mh.fallback_ips;
      r.detail = mh.detail;
      if (mh.ips.size() > 1) {
        // The row keeps an address in scope when there is one.
        auto first_in = std::find_if(mh.ips.begin(), mh.ips.end(),
                                     [&](const std::string& ip) { return !!scope.check(ip); });
        if (first_in != mh.ips.end()) r.ip = *first_in;
        for (const auto& ip : mh.ips) {
          if (ip == r.ip) continue;
          r.detail += "; also " + ip;
          if (more_ips) (*more_ips)[i].push_back(ip);
        }
      }
      // A host outside the scope is discarded here, before any packet
      // leaves; the connect-time check stays as the last guard. Its
      // address stays in the row: the funnel counts it as excluded.
      if (r.status == "ok") {
        if (auto ok = scope.check(r.ip); !ok) {
          r.status = "out_of_scope";
          r.detail = ok.error().message;
        }
        std::erase_if(r.fallback_ips, [&](const std::string& ip) { return !scope.check(ip); });
      }
    }
  };
  auto workers = std::min(std::max<std::size_t>(config.concurrency, 1),
                          std::max<std::size_t>(domains.size(), 1));
  running = workers;
  for (std::size_t w = 0; w < workers; ++w) {
    asio::co_spawn(ex, worker(), [&](std::exception_ptr) {
      if (--running == 0) done.cancel();
    });
  }
  co_await done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  if (stop) co_return make_error("stopped while resolving");
  co_return out;
}

std::vector<store::Host> group_into_hosts(const std::vector<store::Resolution>& resolutions,
                                          const std::vector<std::string>& direct_ips,
                                          const std::vector<std::vector<std::string>>& more_ips) {
  std::map<IpAddress, store::Host> by_ip;
  auto add = [&by_ip](const store::Resolution& r, const std::string& text) {
    auto ip = IpAddress::parse(text);
    if (!ip) return;
    auto& h = by_ip[*ip];
    if (h.ip.empty()) {
      h.ip = ip->to_string();
      h.mx_host = r.mx_host;
      // A fallback of the other family would fail for another reason
      // (no route) than the host's: each address falls back in its family.
      for (const auto& f : r.fallback_ips) {
        auto fa = IpAddress::parse(f);
        if (fa && fa->is_v4 == ip->is_v4) h.fallback_ips.push_back(f);
      }
    }
    h.domains.push_back(r.domain);
  };
  for (std::size_t i = 0; i < resolutions.size(); ++i) {
    const auto& r = resolutions[i];
    if (r.status != "ok") continue;
    add(r, r.ip);
    if (i < more_ips.size()) {
      for (const auto& ip : more_ips[i]) add(r, ip);
    }
  }
  for (const auto& text : direct_ips) {
    auto ip = IpAddress::parse(text);
    if (!ip) continue;
    auto& h = by_ip[*ip];
    if (h.ip.empty()) h.ip = ip->to_string();
  }
  std::vector<store::Host> hosts;
  hosts.reserve(by_ip.size());
  for (auto& [ip, h] : by_ip) hosts.push_back(std::move(h));
  return hosts;
}

}  // namespace relayscope::survey
