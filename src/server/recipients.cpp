// See recipients.hpp.
#include "server/recipients.hpp"

#include <algorithm>
#include <cctype>

namespace relayscope::server {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

void add_unique(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

}  // namespace

RecipientMap::RecipientMap(std::vector<std::string> local_domains, AliasTable aliases,
                           std::set<std::string> users)
    : users_(std::move(users)) {
  for (auto& d : local_domains) domains_.insert(ascii_lower(d));
  for (auto& [k, v] : aliases) {
    auto& targets = aliases_[ascii_lower(k)];
    for (auto& t : v) targets.push_back(ascii_lower(t));
  }
}

bool RecipientMap::is_local_domain(std::string_view domain) const {
  return domains_.count(ascii_lower(domain)) != 0;
}

const std::vector<std::string>* RecipientMap::alias(const std::string& key) const {
  auto it = aliases_.find(key);
  return it == aliases_.end() ? nullptr : &it->second;
}

Resolution RecipientMap::resolve(std::string_view address) const {
  Resolution out;
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return out;
  auto local = ascii_lower(address.substr(0, at));
  auto domain = ascii_lower(address.substr(at + 1));
  if (!domains_.count(domain)) return out;
  expand(local, domain, 0, out);
  return out;
}

void RecipientMap::expand(const std::string& local, const std::string& domain, int depth,
                          Resolution& out) const {
  if (depth > max_alias_depth) return;  // a loop, or a chain too long: nothing
  const std::vector<std::string>* targets = alias(local + "@" + domain);
  if (!targets) targets = alias(local);
  if (targets) {
    for (const auto& t : *targets) add_target(t, domain, depth, out);
    return;
  }
  if (users_.count(local) || local == "postmaster") {
    add_unique(out.maildirs, local + "@" + domain);
    return;
  }
  if (const auto* catch_all = alias("@" + domain)) {
    for (const auto& t : *catch_all) add_target(t, domain, depth, out);
  }
}

void RecipientMap::add_target(const std::string& target, const std::string& domain, int depth,
                              Resolution& out) const {
  if (out.maildirs.size() + out.forwards.size() >= max_alias_targets) return;
  auto at = target.rfind('@');
  if (at == std::string::npos) {
    // A user name at the recipient's own domain. Resolved again when it is
    // itself an alias name and not a user (an alias naming itself is a loop
    // and ends with nothing), else straight into its Maildir.
    if (!users_.count(target) && target != "postmaster" &&
        (alias(target + "@" + domain) || alias(target))) {
      expand(target, domain, depth + 1, out);
    } else {
      add_unique(out.maildirs, target + "@" + domain);
    }
    return;
  }
  auto tdomain = target.substr(at + 1);
  if (domains_.count(tdomain)) {
    auto tlocal = target.substr(0, at);
    if (users_.count(tlocal) && !alias(target) && !alias(tlocal)) {
      add_unique(out.maildirs, target);
    } else {
      expand(tlocal, tdomain, depth + 1, out);
    }
    return;
  }
  add_unique(out.forwards, target);
}

}  // namespace relayscope::server
