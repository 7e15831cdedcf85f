// Known recipients of the relay's local domains (issue 14, 2.), pure: users of
// the users file, the [aliases] table and postmaster@ every local domain.
// resolve() says where mail for one local address goes: into Maildir(s), to
// outside address(es), or nowhere (the session answers 550 5.1.1 at RCPT TO
// and creates no Maildir).
//
// Rules, in order, for LOCAL@DOMAIN (compared in lower case):
//   1. an alias of the full address "local@domain";
//   2. an alias of the local part "local" (at every local domain);
//   3. a user named LOCAL: the Maildir LOCAL@DOMAIN (root/DOMAIN/LOCAL/);
//   4. postmaster (RFC 5321 4.5.1): its own Maildir postmaster@DOMAIN;
//   5. the catch-all "@domain";
//   6. unknown.
// An alias target without '@' is a user name at the recipient's domain; with
// '@' at a local domain it is resolved again (at most max_alias_depth deep,
// loops end there); at any other domain it is forwarded.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace relayscope::server {

inline constexpr int max_alias_depth = 8;
inline constexpr std::size_t max_alias_targets = 1000;  // per resolved recipient

// Keys as the config writes them (lower-cased): "postmaster",
// "sales@example.test", "@example.test"; values: user names or addresses.
using AliasTable = std::map<std::string, std::vector<std::string>>;

struct Resolution {
  std::vector<std::string> maildirs;  // "user@domain": the Maildir root/domain/user/
  std::vector<std::string> forwards;  // outside addresses, relayed as they are
  bool known() const { return !maildirs.empty() || !forwards.empty(); }
};

class RecipientMap {
 public:
  RecipientMap() = default;
  // users: lower-case names of the users file (empty: no users file).
  RecipientMap(std::vector<std::string> local_domains, AliasTable aliases,
               std::set<std::string> users);

  bool is_local_domain(std::string_view domain) const;
  // `address` is "local@domain" (an RCPT TO mailbox); a domain that is not
  // local gives an empty (unknown) resolution: the caller checks locality
  // first and relays or refuses by its own rules.
  Resolution resolve(std::string_view address) const;

 private:
  void expand(const std::string& local, const std::string& domain, int depth,
              Resolution& out) const;
  void add_target(const std::string& target, const std::string& domain, int depth,
                  Resolution& out) const;
  const std::vector<std::string>* alias(const std::string& key) const;

  std::set<std::string> domains_;
  AliasTable aliases_;
  std::set<std::string> users_;
};

// Lower case, ASCII only (addresses and user names compare without case).
std::string ascii_lower(std::string_view s);

}  // namespace relayscope::server
