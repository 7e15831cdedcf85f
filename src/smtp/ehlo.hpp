// EHLO response keywords (RFC 5321 section 4.1.1.1): the first line is the
// server's greeting text, each further line an extension keyword with
// optional parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "smtp/reply.hpp"

namespace relayscope::smtp {

struct Extension {
  std::string keyword;              // upper-cased
  std::vector<std::string> params;  // as sent
};

struct EhloInfo {
  std::string domain;  // first word of the first line
  std::vector<Extension> extensions;

  bool has(std::string_view keyword) const;  // case-insensitive
  const Extension* find(std::string_view keyword) const;
  std::optional<std::uint64_t> size_limit() const;  // SIZE n; nullopt if absent or 0
  bool starttls() const { return has("STARTTLS"); }
  bool pipelining() const { return has("PIPELINING"); }
  // AUTH mechanisms, upper-cased (also from the old "AUTH=" form).
  std::vector<std::string> auth_mechanisms() const;
};

// Never fails: malformed keyword lines are skipped (a server's EHLO list is
// advice, not a contract).
EhloInfo parse_ehlo(const Reply& reply);

}  // namespace relayscope::smtp
