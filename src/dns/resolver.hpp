// The survey's DNS resolver: MX, A and TXT lookups and the mail host of a
// domain (DESIGN.md "Pipeline of the survey", step 2), as asio coroutines on
// one c-ares channel. The caller always names the DNS servers; no query ever
// goes to /etc/resolv.conf's. Every query first checks every named server
// against the scope guard (out of scope: nothing is sent). Mail hosts are
// looked up by A, AAAA or both, as the config's families say (--family).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "dns/mx_select.hpp"
#include "dns/status.hpp"
#include "net/scope_guard.hpp"

namespace relayscope::dns {

struct ResolverState;  // internal (resolver_state.hpp)

struct ResolverConfig {
  std::vector<std::string> servers;  // "HOST:PORT" / "[V6]:PORT"; required, IP literals only
  // Per try; c-ares doubles it for each later round over the servers, so one
  // query waits at most max_query_time() (see below) before "timeout".
  std::chrono::milliseconds timeout{2000};
  int tries = 2;                    // rounds over the servers, 1..10
  net::ScopeGuard scope;            // default: any (real use only); tests pass loopback_only()
  std::size_t max_in_flight = 256;  // queries handed to c-ares at once; more wait in a FIFO
  std::size_t max_fallbacks = 5;    // addresses kept in MailHost::fallback_ips
  std::size_t max_mx_hosts = 10;    // MX hosts looked up per domain, at most
  // Address families of mail hosts (--family 4|6|both): A, AAAA or both.
  bool want_v4 = true;
  bool want_v6 = false;
};

// Upper bound of one query's wait for a silent server set:
// timeout x servers x (2^tries - 1) (c-ares 1.18's back-off).
std::chrono::milliseconds max_query_time(const ResolverConfig& config);

struct MxAnswer {
  DnsStatus status = DnsStatus::error;
  std::string detail;
  std::vector<MxRecord> records;  // as received (host normalized; "" = root)
  std::string canonical_name;     // where the CNAME chain ended (== name if none)
};

struct AddressAnswer {
  DnsStatus status = DnsStatus::error;
  std::string detail;
  std::vector<std::string> addresses;  // dotted IPv4 (A) or IPv6 text (AAAA)
  std::string canonical_name;
};

struct TxtAnswer {
  DnsStatus status = DnsStatus::error;
  std::string detail;
  std::vector<std::string> texts;  // one per TXT record, its strings joined
  std::string canonical_name;
};

// One domain's mail host. status: ok, nxdomain, nodata (no MX and no A),
// servfail, timeout, refused, null_mx, no_address (MX hosts but none with an
// address), out_of_scope, error. Fits store::Resolution field by field
// (status as to_string(status)).
struct MailHost {
  DnsStatus status = DnsStatus::error;
  std::string mx_host;  // empty when the domain's own A record was used
  int preference = -1;  // -1 when no MX was used
  std::string ip;       // the address to probe; empty unless ok
  // With both families: the chosen address of each family the host has,
  // IPv4 first (ip is the first); each is probed as a host of its own.
  std::vector<std::string> ips;
  std::vector<std::string> fallback_ips;  // other MX hosts' addresses, best first
  std::string detail;                     // why, in words (every discard keeps its reason)
};

class Resolver {
 public:
  // Errors: bad server spec, bad timeout/tries, c-ares failure.
  static Expected<Resolver> create(asio::any_io_executor executor, ResolverConfig config);

  Resolver(Resolver&&) noexcept;
  Resolver& operator=(Resolver&&) noexcept;
  // Pending lookups complete with status error ("resolver shut down"); a
  // coroutine still inside resolve_mail_host() stays safe.
  ~Resolver();

  // CNAMEs are followed (also when the server sends the CNAME alone), at most
  // 8 links. A name that is an IP literal is an error for mx/txt; for a() it
  // is returned as is, without a query.
  asio::awaitable<MxAnswer> mx(std::string name);
  asio::awaitable<AddressAnswer> a(std::string name);
  asio::awaitable<AddressAnswer> aaaa(std::string name);  // an IPv6 literal: as is
  asio::awaitable<TxtAnswer> txt(std::string name);

  // The IMC's rule (DESIGN.md): MX hosts in order_mx() order (lowest
  // preference, seeded tie-break); the first whose A lookup gives an address
  // is used, the address picked by choose_address(); the addresses of the
  // hosts after it (up to max_fallbacks) are fallback_ips. No MX (NODATA):
  // the domain's own A record (RFC 5321 5.1). Null MX: null_mx, no
  // fallback. An MX target that is an IP literal is skipped, with a note in
  // detail. No MX host with an address: no_address, unless every host's A
  // lookup failed the same transient way (all timeout, all servfail...):
  // then that status. Same seed, same answers => same choice.
  asio::awaitable<MailHost> resolve_mail_host(std::string domain, std::uint64_t tie_seed);

  // For tests and metrics.
  std::size_t in_flight() const;
  std::size_t queued() const;
  const ResolverConfig& config() const;

 private:
  explicit Resolver(std::shared_ptr<ResolverState> state);
  std::shared_ptr<ResolverState> state_;
};

}  // namespace relayscope::dns
