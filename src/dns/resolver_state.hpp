// Internal to relayscope_dns: the state shared by a Resolver and the
// coroutines it started (they keep it alive), and the one-query primitive
// with scope check, status mapping and CNAME following.
#pragma once

#include <asio.hpp>
#include <memory>
#include <string>
#include <vector>

#include "dns/ares_loop.hpp"
#include "dns/resolver.hpp"
#include "dns/server_spec.hpp"

namespace relayscope::dns {

struct ResolverState {
  ResolverConfig config;
  std::vector<ServerSpec> servers;
  std::shared_ptr<AresLoop> loop;
};

struct Lookup {
  DnsStatus status = DnsStatus::error;
  std::string detail;
  std::vector<unsigned char> data;  // the answer holding the wanted records (ok only)
  std::string canonical_name;
};

// One lookup of `type` for `name`, following CNAMEs (at most 8 links).
asio::awaitable<Lookup> lookup(std::shared_ptr<ResolverState> state, std::string name,
                               QueryType type);

// The bodies of Resolver::mx/a/txt/resolve_mail_host (they hold the state).
asio::awaitable<MxAnswer> do_mx(std::shared_ptr<ResolverState> state, std::string name);
asio::awaitable<AddressAnswer> do_a(std::shared_ptr<ResolverState> state, std::string name);
asio::awaitable<AddressAnswer> do_aaaa(std::shared_ptr<ResolverState> state, std::string name);
asio::awaitable<TxtAnswer> do_txt(std::shared_ptr<ResolverState> state, std::string name);
asio::awaitable<MailHost> do_mail_host(std::shared_ptr<ResolverState> state, std::string domain,
                                       std::uint64_t seed);

}  // namespace relayscope::dns
