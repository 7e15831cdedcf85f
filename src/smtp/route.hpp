// Where a recipient would really go, pure: every relay-trick spelling of a
// forward path (source route, %, !, quoted '@', literals, trailing dot, case)
// resolved into the hosts the mail would visit, for the relay policy to judge.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/path.hpp"

namespace relayscope::smtp {

// THE SAFE RULE (what Route::is_local implements and a relay policy must
// follow): a recipient is local only if the route is not ambiguous, and EVERY
// domain it mentions is one of our local domains, and EVERY address literal
// it mentions is one of our own addresses. Judging only the final domain, or
// only the written host part, lets "user%victim@local", "victim!user@local",
// "\"user@victim\"@local" or "<@local:user@victim>" slip through.
//
// Order of the hops, as the old MTAs that honoured them would deliver:
//   - source route "<@a,@b:u@c>": a, b, then c;
//   - the host part of the mailbox;
//   - '%' and '@' inside the local part (the percent hack, quoted '@'): the
//     rightmost first ("a%b%c@h": h, c, b; user "a");
//   - '!' inside the local part (bang path, UUCP): the leftmost first
//     ("x!y!user@h": h, x, y; user "user").
// A local part holding both '!' and '%'/'@' has no agreed reading: ambiguous.
struct Route {
  // Every host the address mentions, domains and literals together, in
  // visiting order: domains as in domains_in_order, literals in canonical
  // wire form ("[192.0.2.1]"). hops.back() is final_domain.
  std::vector<std::string> hops;
  // Every domain the address mentions, in visiting order, lower case, without
  // a trailing dot. Literals are not in this list.
  std::vector<std::string> domains_in_order;
  // Where the mail ends: the last hop. A domain as in domains_in_order, a
  // literal in its canonical wire form ("[192.0.2.1]", "[IPv6:::1]"), or ""
  // when the address names no host at all ("<Postmaster>", a bare "user").
  std::string final_domain;
  bool final_is_literal = false;
  // Address literals mentioned anywhere: canonical address text ("192.0.2.1",
  // "2001:db8::1", RFC 5952). A domain that is a dotted quad ("u@127.0.0.1")
  // is taken as the literal it would be read as, and listed here.
  bool has_literal = false;
  std::vector<std::string> literals;
  // A general address literal ("[x-tag:...]") can never be one of our
  // addresses: is_local() is false whenever one is present.
  bool has_general_literal = false;
  // The spelling cannot be resolved with certainty: mixed '!' and '%'/'@',
  // an empty or malformed hop ("user%@h", "a%b_c@h"), a numeric top-level
  // label ("u@10.1", which resolvers read as an address), or a null path.
  // True in a default-constructed Route, so that one never judges "local".
  bool ambiguous = true;
  std::string final_local_part;  // the user part left after every hop is taken off
  // Each trick seen, for logs and reports.
  bool source_routed = false;
  bool percent_hack = false;
  bool bang_path = false;
  bool quoted_at = false;
  bool has_trick() const { return source_routed || percent_hack || bang_path || quoted_at; }

  // The safe rule above. `is_local_domain` gets lower-case domains without a
  // trailing dot; `is_local_address` gets canonical address text.
  bool is_local(const std::function<bool(std::string_view)>& is_local_domain,
                const std::function<bool(std::string_view)>& is_local_address) const;
};

Route resolve_route(const Path& path);
// Same, for a mailbox on its own; an empty host (as in "<Postmaster>" or a
// bare "target!user") is allowed.
Route resolve_route(const Mailbox& mailbox);

}  // namespace relayscope::smtp
