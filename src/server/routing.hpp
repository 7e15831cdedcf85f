// Routing for the queue manager: which destination each recipient goes to
// (its Maildir, the smarthost, its domain's MX hosts or the address literal
// it names), the hosts of a destination, and the MX fallback rule: the next
// host is tried when the one before gave no transaction at all (no
// connection, or a transient refusal before MAIL: a 421 or 4xx greeting),
// as RFC 5321 section 5.1 asks.
#pragma once

#include <asio.hpp>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/delivery.hpp"
#include "server/config.hpp"
#include "server/courier.hpp"
#include "server/policy.hpp"
#include "smtp/path.hpp"

namespace relayscope::dns {
class Resolver;
}

namespace relayscope::server {

// The destination of local recipients (the Maildir courier's).
inline constexpr const char* local_destination = "local";

std::optional<smtp::Path> parse_recipient(const std::string& r);

// A remote recipient's destination without a smarthost: its written host
// part, lower case without a trailing dot ("example.test"), or "[192.0.2.1]".
std::string destination_of(const smtp::Path& p);

struct RoutePlan {
  std::map<std::string, std::vector<std::string>> destinations;  // -> recipients
  Outcomes refused;  // recipients that go nowhere (bad syntax, unsafe mailbox name)
};
RoutePlan plan_routes(const std::set<std::string>& recipients, const RelayPolicy& policy,
                      bool smarthost);

// The hosts to try for a destination, in order, or the outcome every
// recipient gets when there is none (a permanent one when DNS says the
// domain does not exist or takes no mail).
struct Hosts {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  std::optional<RecipientOutcome> failure;
};
asio::awaitable<Hosts> find_hosts(std::string destination, const DeliveryConfig& delivery,
                                  dns::Resolver* resolver);

// True when no transaction took place with this host and the next one
// should be tried: no reply at all, or a transient reply before MAIL (a 421
// or 4xx greeting, EHLO or STARTTLS), or a 421 "closing" at any step.
bool try_next_host(const std::vector<client::RecipientResult>& results);

// The queue's outcome of one client result; `relay` is "ADDR:PORT".
RecipientOutcome outcome_of(const client::RecipientResult& r, const std::string& relay);

// Tries `hosts` in order with `try_host` until one does not call for the
// next (try_next_host); the last host's results stand.
using TryHost = std::function<asio::awaitable<std::vector<client::RecipientResult>>(
    const asio::ip::tcp::endpoint&)>;
asio::awaitable<Outcomes> try_hosts(std::vector<asio::ip::tcp::endpoint> hosts,
                                    std::vector<std::string> recipients, TryHost try_host);

}  // namespace relayscope::server
