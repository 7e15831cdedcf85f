// See routing.hpp.
#include "server/routing.hpp"

#include <algorithm>

#include "common/ascii.hpp"
#include "dns/resolver.hpp"

namespace relayscope::server {

namespace {

using Kind = RecipientOutcome::Kind;

std::string status_of(const std::string& text, const char* fallback) {
  auto s = smtp::parse_enhanced_status(text);
  if (!s) {
    auto sp = text.find(' ');
    if (sp != std::string::npos) {
      s = smtp::parse_enhanced_status(text.substr(sp + 1));
    }
  }
  return s ? s->to_string() : fallback;
}

RecipientOutcome failure(Kind k, const char* status, std::string text) {
  return RecipientOutcome{k, status, std::move(text), "", std::nullopt};
}

}  // namespace

std::optional<smtp::Path> parse_recipient(const std::string& r) {
  auto p = smtp::parse_path("<" + r + ">", smtp::PathKind::forward, true);
  if (!p) {
    return std::nullopt;
  }
  return std::move(*p);
}

std::string destination_of(const smtp::Path& p) {
  const auto& h = p.mailbox.host;
  if (h.is_literal()) {
    return "[" + h.text + "]";
  }
  auto d = ascii::lower(h.text);
  if (!d.empty() && d.back() == '.') {
    d.pop_back();
  }
  return d;
}

RoutePlan plan_routes(const std::set<std::string>& recipients, const RelayPolicy& policy,
                      bool smarthost) {
  RoutePlan plan;
  for (const auto& r : recipients) {
    auto path = parse_recipient(r);
    if (!path) {
      plan.refused.emplace_back(r,
                                failure(Kind::permanent, "5.1.3", "bad recipient address syntax"));
      continue;
    }
    if (auto box = policy.local_mailbox(*path)) {
      if (!safe_mailbox_name(box->user)) {
        plan.refused.emplace_back(r,
                                  failure(Kind::permanent, "5.1.3", "mailbox name not accepted"));
        continue;
      }
      plan.destinations[local_destination].push_back(r);
      continue;
    }
    plan.destinations[smarthost ? std::string("smarthost") : destination_of(*path)].push_back(r);
  }
  return plan;
}

asio::awaitable<Hosts> find_hosts(std::string destination, const DeliveryConfig& d,
                                  dns::Resolver* resolver) {
  Hosts out;
  std::error_code ec;
  if (d.smarthost) {
    auto a = asio::ip::make_address(d.smarthost->address, ec);
    if (ec) {
      out.failure =
          failure(Kind::transient, "4.4.1", "bad smarthost address " + d.smarthost->address);
      co_return out;
    }
    out.endpoints.emplace_back(a, d.smarthost->port);
    co_return out;
  }
  if (!destination.empty() && destination.front() == '[') {
    auto text = destination.substr(1, destination.size() - 2);
    auto a = asio::ip::make_address(text, ec);
    if (ec) {
      out.failure =
          failure(Kind::permanent, "5.1.2", "cannot deliver to address literal " + destination);
      co_return out;
    }
    out.endpoints.emplace_back(a, d.port);
    co_return out;
  }
  if (!resolver) {
    out.failure = failure(Kind::transient, "4.4.3", "no DNS servers configured for " + destination);
    co_return out;
  }
  auto mh = co_await resolver->resolve_mail_host(destination, 0);
  using S = dns::DnsStatus;
  if (mh.status == S::nxdomain || mh.status == S::nodata) {
    out.failure = failure(Kind::permanent, "5.1.2",
                          "Host or domain name not found: " + destination + " (" +
                              std::string(dns::to_string(mh.status)) + ")");
    co_return out;
  }
  if (mh.status == S::null_mx) {
    out.failure =
        failure(Kind::permanent, "5.1.10", "Domain " + destination + " accepts no mail (null MX)");
    co_return out;
  }
  if (mh.status != S::ok) {
    out.failure =
        failure(Kind::transient, "4.4.3", "DNS lookup of " + destination + " failed: " + mh.detail);
    co_return out;
  }
  std::vector<std::string> ips{mh.ip};
  ips.insert(ips.end(), mh.fallback_ips.begin(), mh.fallback_ips.end());
  for (const auto& ip : ips) {
    auto a = asio::ip::make_address(ip, ec);
    if (!ec) {
      out.endpoints.emplace_back(a, d.port);
    }
  }
  if (out.endpoints.empty()) {
    out.failure = failure(Kind::transient, "4.4.1", "no host to deliver to");
  }
  co_return out;
}

bool try_next_host(const std::vector<client::RecipientResult>& results) {
  using client::Stage;
  if (results.empty()) {
    return true;
  }
  return std::all_of(results.begin(), results.end(), [](const client::RecipientResult& r) {
    if (r.disposition != client::Disposition::transient) {
      return false;
    }
    if (r.code == 0 || r.code == 421) {
      return true;  // no reply at all, or the server is closing the channel
    }
    return r.stage == Stage::connect || r.stage == Stage::greeting || r.stage == Stage::hello ||
           r.stage == Stage::starttls;
  });
}

RecipientOutcome outcome_of(const client::RecipientResult& r, const std::string& relay) {
  RecipientOutcome o;
  o.relay = relay;
  o.reply = r.reply;
  // The client's text is the reply as received ("550 5.1.1 ..."), or our
  // own reason when no reply came.
  auto code = std::to_string(r.code);
  bool has_code = r.text.compare(0, code.size(), code) == 0;
  o.text = r.code && !has_code ? code + " " + r.text : r.text;
  switch (r.disposition) {
    case client::Disposition::delivered:
      o.kind = Kind::delivered;
      o.status = "2.0.0";
      break;
    case client::Disposition::permanent:
      o.kind = Kind::permanent;
      o.status = status_of(r.text, "5.0.0");
      break;
    case client::Disposition::transient:
      o.kind = Kind::transient;
      o.status = status_of(r.text, "4.4.1");
      break;
  }
  return o;
}

asio::awaitable<Outcomes> try_hosts(std::vector<asio::ip::tcp::endpoint> hosts,
                                    std::vector<std::string> recipients, TryHost try_host) {
  std::vector<client::RecipientResult> results;
  std::string relay;
  for (const auto& host : hosts) {
    relay = host.address().to_string() + ":" + std::to_string(host.port());
    results = co_await try_host(host);
    if (!try_next_host(results)) {
      break;
    }
  }
  Outcomes out;
  for (const auto& r : results) {
    out.emplace_back(r.recipient, outcome_of(r, relay));
  }
  if (results.empty()) {
    for (const auto& r : recipients) {
      out.emplace_back(r, failure(Kind::transient, "4.4.1", "no host to deliver to"));
    }
  }
  co_return out;
}

}  // namespace relayscope::server
