// See sender_binding.hpp.
#include "server/sender_binding.hpp"

#include "server/recipients.hpp"

namespace relayscope::server {

SenderBinding::SenderBinding(std::vector<std::string> local_domains, SenderGrants grants) {
  for (auto& d : local_domains) domains_.insert(ascii_lower(d));
  for (auto& [user, addresses] : grants) {
    auto& set = grants_[ascii_lower(user)];
    for (auto& a : addresses) set.insert(ascii_lower(a));
  }
}

bool SenderBinding::may_send_as(std::string_view user, std::string_view address) const {
  if (address.empty()) return true;
  if (user.empty()) return false;
  auto a = ascii_lower(address);
  auto at = a.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == a.size()) return false;
  auto local = a.substr(0, at);
  auto domain = a.substr(at + 1);
  auto u = ascii_lower(user);
  if (local == u && domains_.count(domain)) return true;
  auto it = grants_.find(u);
  if (it == grants_.end()) return false;
  return it->second.count(a) != 0 || it->second.count("@" + domain) != 0;
}

bool SenderBinding::may_send_as_all(std::string_view user,
                                    const std::vector<std::string>& addresses) const {
  if (addresses.empty()) return false;  // fail closed: no author is no match
  for (const auto& a : addresses) {
    if (a.empty() || !may_send_as(user, a)) return false;
  }
  return true;
}

}  // namespace relayscope::server
