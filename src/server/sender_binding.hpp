// Senders bound to logins (issue 14, 3.), pure: may the authenticated user U
// use address A as envelope sender (MAIL FROM, else 553 5.7.1) or in the
// From: header (else 550 5.7.1 after DATA)? U owns U@<each local domain>;
// the [senders] table grants more (as Postfix's smtpd_sender_login_maps): a
// full address, or "@domain" for every address at that domain. Addresses
// compare without case. The null sender (bounces) is allowed.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace relayscope::server {

// [senders]: user name (lower case) -> addresses or "@domain".
using SenderGrants = std::map<std::string, std::vector<std::string>>;

class SenderBinding {
 public:
  SenderBinding() = default;
  SenderBinding(std::vector<std::string> local_domains, SenderGrants grants);

  // `address` is "local@domain" as in MAIL FROM (without brackets); empty is
  // the null sender.
  bool may_send_as(std::string_view user, std::string_view address) const;
  // Every address of a From: header must be the user's (see
  // smtp::from_header_addresses for the extraction).
  bool may_send_as_all(std::string_view user, const std::vector<std::string>& addresses) const;

 private:
  std::set<std::string> domains_;
  std::map<std::string, std::set<std::string>> grants_;
};

}  // namespace relayscope::server
