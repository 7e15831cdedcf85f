// See resolver.hpp. Queries go through AresLoop; answers are parsed with
// c-ares' own parsers; CNAMEs are followed here because c-ares' MX and TXT
// parsers ignore them and servers may send a CNAME alone.
#include "dns/resolver.hpp"

#include <ares.h>
#include <arpa/inet.h>

#include <type_traits>

#include "dns/dns_wire.hpp"
#include "dns/resolver_state.hpp"

namespace relayscope::dns {

namespace {

constexpr int kMaxCnameLinks = 8;

const char* type_name(QueryType type) {
  switch (type) {
    case QueryType::a:
      return "A";
    case QueryType::mx:
      return "MX";
    case QueryType::txt:
      return "TXT";
    case QueryType::aaaa:
      return "AAAA";
  }
  return "?";
}

DnsStatus map_status(int ares_status) {
  switch (ares_status) {
    case ARES_SUCCESS:
      return DnsStatus::ok;
    case ARES_ENOTFOUND:
      return DnsStatus::nxdomain;
    case ARES_ENODATA:
      return DnsStatus::nodata;
    case ARES_ESERVFAIL:
      return DnsStatus::servfail;
    case ARES_ETIMEOUT:
      return DnsStatus::timeout;
    case ARES_EREFUSED:
      return DnsStatus::refused;
    default:
      return DnsStatus::error;
  }
}

std::string status_words(int ares_status) {
  switch (ares_status) {
    case ARES_ENOTFOUND:
      return "NXDOMAIN";
    case ARES_ENODATA:
      return "no data";
    case ARES_ESERVFAIL:
      return "SERVFAIL";
    case ARES_ETIMEOUT:
      return "timeout";
    case ARES_EREFUSED:
      return "REFUSED";
    case ARES_ECONNREFUSED:
      return "connection refused by the DNS server";
    case ARES_EDESTRUCTION:
      return "resolver shut down";
    default:
      return ares_strerror(ares_status);
  }
}

// Checks the name before it reaches c-ares: empty, too long, NUL inside.
std::string name_problem(const std::string& name) {
  if (name.empty()) return "empty name";
  if (name.size() > 253) return "name longer than 253 characters";
  if (name.find('\0') != std::string::npos) return "NUL in name";
  return {};
}

}  // namespace

std::chrono::milliseconds max_query_time(const ResolverConfig& config) {
  const auto servers = static_cast<long long>(std::max<std::size_t>(1, config.servers.size()));
  const int tries = std::clamp(config.tries, 1, 10);
  return config.timeout * servers * ((1LL << tries) - 1);
}

asio::awaitable<Lookup> lookup(std::shared_ptr<ResolverState> state, std::string name,
                               QueryType type) {
  std::string current = normalize_name(name);
  const std::string what = std::string(type_name(type)) + " " + current;
  if (auto problem = name_problem(current); !problem.empty()) {
    co_return Lookup{DnsStatus::error, what + ": " + problem, {}, current};
  }
  for (int link = 0; link <= kMaxCnameLinks; ++link) {
    // The scope guard, before anything is sent: every server c-ares may use.
    for (const auto& server : state->servers) {
      if (auto ok = state->config.scope.check(server.address); !ok) {
        co_return Lookup{DnsStatus::out_of_scope,
                         what + ": DNS server " + server.to_string() + ": " + ok.error().message,
                         {},
                         current};
      }
    }
    RawAnswer raw = co_await state->loop->async_query(current, type, asio::use_awaitable);
    if (raw.ares_status != ARES_SUCCESS) {
      Lookup l{
          map_status(raw.ares_status), what + ": " + status_words(raw.ares_status), {}, current};
      if (current != normalize_name(name)) l.detail += " (at " + current + ")";
      co_return l;
    }
    if (count_answer_records(raw.data.data(), raw.data.size(), static_cast<int>(type)) > 0) {
      co_return Lookup{DnsStatus::ok, {}, std::move(raw.data), current};
    }
    auto next = cname_chain_end(raw.data.data(), raw.data.size(), current);
    if (next == current) {
      co_return Lookup{DnsStatus::nodata,
                       what + ": no " + type_name(type) + " record" +
                           (current != normalize_name(name) ? " (at " + current + ")" : ""),
                       {},
                       current};
    }
    current = std::move(next);  // the server sent the CNAME alone: ask for its target
  }
  co_return Lookup{DnsStatus::error, what + ": CNAME chain longer than 8 links", {}, current};
}

asio::awaitable<MxAnswer> do_mx(std::shared_ptr<ResolverState> state, std::string name) {
  MxAnswer out;
  if (IpAddress::parse(normalize_name(name))) {
    out.detail = "MX " + name + ": an IP address is not a domain";
    co_return out;
  }
  auto l = co_await lookup(state, name, QueryType::mx);
  out.status = l.status;
  out.detail = std::move(l.detail);
  out.canonical_name = std::move(l.canonical_name);
  if (l.status != DnsStatus::ok) co_return out;
  ares_mx_reply* head = nullptr;
  int rc = ares_parse_mx_reply(l.data.data(), static_cast<int>(l.data.size()), &head);
  if (rc != ARES_SUCCESS) {
    out.status = rc == ARES_ENODATA ? DnsStatus::nodata : DnsStatus::error;
    out.detail = "MX " + normalize_name(name) + ": " + status_words(rc);
    co_return out;
  }
  for (auto* r = head; r; r = r->next) {
    out.records.push_back(MxRecord{r->priority, normalize_name(r->host ? r->host : "")});
  }
  ares_free_data(head);
  co_return out;
}

namespace {

// The addresses of one family (A or AAAA) in c-ares' parsed form: the text
// of each. The two families differ only in these few lines.
void address_texts(const ares_addrttl* ttls, int count, std::vector<std::string>& out) {
  for (int i = 0; i < count; ++i) {
    char text[INET_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET, &ttls[i].ipaddr, text, sizeof text)) out.emplace_back(text);
  }
}

void address_texts(const ares_addr6ttl* ttls, int count, std::vector<std::string>& out) {
  for (int i = 0; i < count; ++i) {
    char text[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET6, &ttls[i].ip6addr, text, sizeof text)) out.emplace_back(text);
  }
}

int parse_reply(const std::vector<unsigned char>& data, ares_addrttl* ttls, int* count) {
  return ares_parse_a_reply(data.data(), static_cast<int>(data.size()), nullptr, ttls, count);
}

int parse_reply(const std::vector<unsigned char>& data, ares_addr6ttl* ttls, int* count) {
  return ares_parse_aaaa_reply(data.data(), static_cast<int>(data.size()), nullptr, ttls, count);
}

// A (Ttl = ares_addrttl) or AAAA (ares_addr6ttl) records of `name`; an
// address literal is answered without a query, in its own family only.
template <class Ttl>
asio::awaitable<AddressAnswer> do_address(std::shared_ptr<ResolverState> state, std::string name) {
  constexpr bool v4 = std::is_same_v<Ttl, ares_addrttl>;
  const std::string rr = v4 ? "A" : "AAAA";
  AddressAnswer out;
  const std::string n = normalize_name(name);
  if (auto ip = IpAddress::parse(n)) {
    out.canonical_name = n;
    if (ip->is_v4 == v4) {
      out.status = DnsStatus::ok;
      out.addresses.push_back(ip->to_string());
      out.detail = n + (v4 ? " is an IPv4 address: no query" : " is an IPv6 address: no query");
    } else {
      out.detail = v4 ? n + " is an IPv6 address: only IPv4 is probed"
                      : n + " is an IPv4 address: it has no AAAA record";
    }
    co_return out;
  }
  auto l = co_await lookup(state, name, v4 ? QueryType::a : QueryType::aaaa);
  out.status = l.status;
  out.detail = std::move(l.detail);
  out.canonical_name = std::move(l.canonical_name);
  if (l.status != DnsStatus::ok) co_return out;
  constexpr int kMaxAddresses = 64;
  Ttl ttls[kMaxAddresses];
  int count = kMaxAddresses;
  int rc = parse_reply(l.data, ttls, &count);
  if (rc != ARES_SUCCESS) {
    out.status = rc == ARES_ENODATA ? DnsStatus::nodata : DnsStatus::error;
    out.detail = rr + " " + n + ": " + status_words(rc);
    co_return out;
  }
  address_texts(ttls, count, out.addresses);
  if (out.addresses.empty()) {
    out.status = DnsStatus::nodata;
    out.detail = rr + " " + n + ": no " + rr + " record";
  }
  co_return out;
}

}  // namespace

asio::awaitable<AddressAnswer> do_a(std::shared_ptr<ResolverState> state, std::string name) {
  return do_address<ares_addrttl>(std::move(state), std::move(name));
}

asio::awaitable<AddressAnswer> do_aaaa(std::shared_ptr<ResolverState> state, std::string name) {
  return do_address<ares_addr6ttl>(std::move(state), std::move(name));
}

asio::awaitable<TxtAnswer> do_txt(std::shared_ptr<ResolverState> state, std::string name) {
  TxtAnswer out;
  auto l = co_await lookup(state, name, QueryType::txt);
  out.status = l.status;
  out.detail = std::move(l.detail);
  out.canonical_name = std::move(l.canonical_name);
  if (l.status != DnsStatus::ok) co_return out;
  ares_txt_ext* head = nullptr;
  int rc = ares_parse_txt_reply_ext(l.data.data(), static_cast<int>(l.data.size()), &head);
  if (rc != ARES_SUCCESS) {
    out.status = rc == ARES_ENODATA ? DnsStatus::nodata : DnsStatus::error;
    out.detail = "TXT " + normalize_name(name) + ": " + status_words(rc);
    co_return out;
  }
  for (auto* r = head; r; r = r->next) {
    if (r->record_start || out.texts.empty()) out.texts.emplace_back();
    out.texts.back().append(reinterpret_cast<const char*>(r->txt), r->length);
  }
  ares_free_data(head);
  co_return out;
}

Expected<Resolver> Resolver::create(asio::any_io_executor executor, ResolverConfig config) {
  auto servers = parse_server_specs(config.servers);
  if (!servers) return servers.error();
  AresLoopConfig loop_config;
  loop_config.servers = *servers;
  loop_config.timeout = config.timeout;
  loop_config.tries = config.tries;
  loop_config.max_in_flight = config.max_in_flight;
  auto loop = AresLoop::create(std::move(executor), loop_config);
  if (!loop) return loop.error();
  auto state = std::make_shared<ResolverState>();
  state->config = std::move(config);
  state->servers = std::move(*servers);
  state->loop = std::move(*loop);
  return Resolver(std::move(state));
}

Resolver::Resolver(std::shared_ptr<ResolverState> state) : state_(std::move(state)) {}
Resolver::Resolver(Resolver&&) noexcept = default;
Resolver& Resolver::operator=(Resolver&& other) noexcept {
  if (this != &other) {
    if (state_) state_->loop->shutdown();
    state_ = std::move(other.state_);
  }
  return *this;
}
Resolver::~Resolver() {
  if (state_) state_->loop->shutdown();
}

// Not coroutines themselves: the shared state is copied into the coroutine
// frame now, so a lookup outlives the Resolver safely.
asio::awaitable<MxAnswer> Resolver::mx(std::string name) {
  return do_mx(state_, std::move(name));
}
asio::awaitable<AddressAnswer> Resolver::a(std::string name) {
  return do_a(state_, std::move(name));
}
asio::awaitable<AddressAnswer> Resolver::aaaa(std::string name) {
  return do_aaaa(state_, std::move(name));
}
asio::awaitable<TxtAnswer> Resolver::txt(std::string name) {
  return do_txt(state_, std::move(name));
}

std::size_t Resolver::in_flight() const {
  return state_->loop->in_flight();
}
std::size_t Resolver::queued() const {
  return state_->loop->queued();
}
const ResolverConfig& Resolver::config() const {
  return state_->config;
}

}  // namespace relayscope::dns
