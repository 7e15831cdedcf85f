#include "net/scope_guard.hpp"

#include <fstream>

namespace relayscope::net {

Expected<ScopeGuard> ScopeGuard::from_strings(const std::vector<std::string>& allowed,
                                              const std::vector<std::string>& excluded) {
  auto a = CidrSet::parse(allowed);
  if (!a) return make_error("--scope: " + a.error().message);
  auto e = CidrSet::parse(excluded);
  if (!e) return make_error("exclusion: " + e.error().message);
  return ScopeGuard(std::move(*a), std::move(*e));
}

Expected<CidrSet> ScopeGuard::read_exclusion_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read exclusion file '" + path + "'");
  CidrSet set;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    auto last = line.find_last_not_of(" \t\r");
    auto c = Cidr::parse(std::string_view(line).substr(first, last - first + 1));
    if (!c) return make_error(path + ":" + std::to_string(number) + ": " + c.error().message);
    set.add(*c);
  }
  return set;
}

Status ScopeGuard::check(const IpAddress& address) const {
  if (excluded_.contains(address)) {
    return make_error(address.to_string() + " is excluded (--exclude)");
  }
  if (!allowed_.empty() && !allowed_.contains(address)) {
    return make_error(address.to_string() + " is outside the run's scope");
  }
  return Ok{};
}

Status ScopeGuard::check(const std::string& address) const {
  auto a = IpAddress::parse(address);
  if (!a) return make_error("not an IP address: '" + address + "'");
  return check(*a);
}

ScopeGuard ScopeGuard::loopback_only() {
  return ScopeGuard(CidrSet({*Cidr::parse("127.0.0.0/8"), *Cidr::parse("::1/128")}), CidrSet());
}

}  // namespace relayscope::net
