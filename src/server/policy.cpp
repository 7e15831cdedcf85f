// See policy.hpp. The only place that decides whether a recipient may be
// accepted from a client; the session asks it at every RCPT TO.
#include "server/policy.hpp"

#include <algorithm>
#include <cctype>

#include "common/ascii.hpp"
#include "smtp/route.hpp"

namespace relayscope::server {

namespace {

using ascii::lower;  // one ASCII case helper (common/ascii.hpp)

smtp::Reply make(int code, std::string text) {
  smtp::Reply r;
  r.code = code;
  r.lines.push_back(std::move(text));
  return r;
}

}  // namespace

const char* to_string(RcptRule r) {
  switch (r) {
    case RcptRule::local_to_local:
      return "local-client-to-local-mailbox";
    case RcptRule::local_to_remote:
      return "local-client-to-remote";
    case RcptRule::remote_to_local:
      return "stranger-to-local-mailbox";
    case RcptRule::authenticated:
      return "authenticated";
    case RcptRule::denied:
      return "denied";
  }
  return "denied";
}

bool safe_mailbox_name(std::string_view user) {
  if (user.empty() || user.size() > 64 || user.front() == '.') return false;
  return std::all_of(user.begin(), user.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' ||
           c == '=' || c == '-';
  });
}

RelayPolicy::RelayPolicy(CidrSet local_networks, std::vector<std::string> local_domains)
    : networks_(std::move(local_networks)) {
  for (auto& d : local_domains) {
    d = lower(d);
    if (!d.empty() && d.back() == '.') d.pop_back();
    domains_.push_back(d);
  }
}

bool RelayPolicy::is_local_domain(std::string_view domain) const {
  return std::find(domains_.begin(), domains_.end(), domain) != domains_.end();
}

bool RelayPolicy::mentions_only_local(const smtp::Path& rcpt) const {
  auto route = smtp::resolve_route(rcpt);
  return route.is_local([this](std::string_view d) { return is_local_domain(d); },
                        [](std::string_view) { return false; });
}

std::optional<LocalMailbox> RelayPolicy::local_mailbox(const smtp::Path& rcpt) const {
  if (rcpt.null || domains_.empty()) return std::nullopt;
  auto route = smtp::resolve_route(rcpt);
  if (!route.is_local([this](std::string_view d) { return is_local_domain(d); },
                      [](std::string_view) { return false; })) {
    return std::nullopt;
  }
  LocalMailbox m;
  if (route.final_domain.empty()) {
    // "<Postmaster>" without a domain (RFC 5321 4.1.1.3); anything else that
    // names no host at all is not a mailbox of ours.
    if (lower(route.final_local_part) != "postmaster" || !route.hops.empty()) return std::nullopt;
    m.domain = domains_.front();
  } else {
    m.domain = route.final_domain;
  }
  m.user = lower(route.final_local_part);
  return m;
}

RcptVerdict RelayPolicy::judge(const IpAddress* client, bool authenticated,
                               const smtp::Path& rcpt) const {
  RcptVerdict v;
  bool local_client = client && is_local_client(*client);
  v.mailbox = local_mailbox(rcpt);
  if (v.mailbox) {
    if (!safe_mailbox_name(v.mailbox->user)) {
      v.refusal = make(550, "5.1.3 " + rcpt.wire() + ": Mailbox name not accepted here");
      v.mailbox.reset();
      return v;
    }
    v.rule = local_client ? RcptRule::local_to_local
                          : (authenticated ? RcptRule::authenticated : RcptRule::remote_to_local);
    return v;
  }
  if (local_client) {
    v.rule = RcptRule::local_to_remote;
  } else if (authenticated) {
    v.rule = RcptRule::authenticated;
  } else {
    v.refusal = make(554, "5.7.1 " + rcpt.wire() + ": Relay access denied");
  }
  return v;
}

}  // namespace relayscope::server
