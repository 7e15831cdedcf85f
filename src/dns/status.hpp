// Outcome of one DNS lookup or of one domain's mail-host resolution, as the
// store and the report spell it (store::Resolution::status).
#pragma once

#include <string_view>

namespace relayscope::dns {

enum class DnsStatus {
  ok,
  nxdomain,    // the name does not exist
  nodata,      // the name exists but has no record of the type (and, for a domain, no MX and no A)
  servfail,    // the server failed (SERVFAIL, also after all tries)
  timeout,     // no answer within timeout x tries
  refused,     // the server refused the query (REFUSED)
  null_mx,     // RFC 7505: the domain says it accepts no mail
  no_address,  // MX records exist, but no MX host yielded an IPv4 address
  out_of_scope,  // a named DNS server is outside the run's scope: nothing was sent
  error,         // anything else (bad name, bad answer, resolver shut down...)
};

// "ok", "nxdomain", "nodata", "servfail", "timeout", "refused", "null_mx",
// "no_address", "out_of_scope", "error".
std::string_view to_string(DnsStatus status);

}  // namespace relayscope::dns
