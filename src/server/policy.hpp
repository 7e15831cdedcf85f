// The relay policy of DESIGN.md ("Closing relays"), pure: which recipients a
// client may give at RCPT TO. The recipient is judged by where the mail would
// really go (smtp::resolve_route: every domain and literal it mentions must
// be ours for it to count as local), so no spelling slips through.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.hpp"
#include "smtp/path.hpp"
#include "smtp/reply.hpp"

namespace relayscope::server {

// A local recipient's mailbox: root/domain/user/.
struct LocalMailbox {
  std::string domain;  // lower case, one of the local domains
  std::string user;    // lower case, a safe file name
  std::string address() const { return user + "@" + domain; }
};

enum class RcptRule {
  local_to_local,   // rule 1
  local_to_remote,  // rule 2
  remote_to_local,  // rule 3
  authenticated,    // rule 4
  denied,
};
const char* to_string(RcptRule r);

struct RcptVerdict {
  RcptRule rule = RcptRule::denied;
  std::optional<LocalMailbox> mailbox;  // set when the recipient is local
  std::optional<smtp::Reply> refusal;   // set when refused (554 5.7.1, or 550 for a bad name)
  bool accepted() const { return !refusal; }
};

class RelayPolicy {
 public:
  // Address literals are never local: a literal naming one of our listen
  // addresses is refused too (the safest reading; DESIGN.md rule "literals
  // resolved before the rule"), so "user@[127.0.0.1]" counts as remote.
  RelayPolicy(CidrSet local_networks, std::vector<std::string> local_domains);

  bool is_local_client(const IpAddress& client) const { return networks_.contains(client); }
  bool is_local_domain(std::string_view domain) const;

  // The four rules. `client` may be null (unknown address: a stranger).
  RcptVerdict judge(const IpAddress* client, bool authenticated, const smtp::Path& rcpt) const;

  // Where a recipient goes when it is local: every hop of its route is a
  // local domain and the final user is a safe mailbox name. "<Postmaster>"
  // (no domain) is postmaster at the first local domain.
  std::optional<LocalMailbox> local_mailbox(const smtp::Path& rcpt) const;
  bool mentions_only_local(const smtp::Path& rcpt) const;

  const std::vector<std::string>& local_domains() const { return domains_; }

 private:
  CidrSet networks_;
  std::vector<std::string> domains_;
};

// A user name we are willing to make a directory of: 1-64 of [a-z0-9._+=-],
// not starting with '.', lower case (the caller lower-cases).
bool safe_mailbox_name(std::string_view user);

}  // namespace relayscope::server
