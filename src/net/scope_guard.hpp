// The network scope of a run (DESIGN.md, contract): every outbound connection
// and every DNS query passes this check first. An empty list means "any",
// which only real use may have; tests, the lab and the demo pass 127.0.0.0/8.
// An exclusion list (zmap-style blocklist, --exclude FILE) wins over scope.
#pragma once

#include <string>
#include <vector>

#include "common/cidr.hpp"
#include "common/expected.hpp"

namespace relayscope::net {

class ScopeGuard {
 public:
  ScopeGuard() = default;  // any destination
  ScopeGuard(CidrSet allowed, CidrSet excluded)
      : allowed_(std::move(allowed)), excluded_(std::move(excluded)) {}

  // Parses CIDR texts; an empty `allowed` means any.
  static Expected<ScopeGuard> from_strings(const std::vector<std::string>& allowed,
                                           const std::vector<std::string>& excluded = {});
  // Reads an exclusion file: one CIDR or address a line, '#' comments.
  static Expected<CidrSet> read_exclusion_file(const std::string& path);

  // Ok, or an error naming the address and why it is out of scope.
  Status check(const IpAddress& address) const;
  Status check(const std::string& address) const;

  bool unrestricted() const { return allowed_.empty(); }
  const CidrSet& allowed() const { return allowed_; }

  // 127.0.0.0/8 and ::1: the machine itself, in either family.
  static ScopeGuard loopback_only();

 private:
  CidrSet allowed_;
  CidrSet excluded_;
};

}  // namespace relayscope::net
