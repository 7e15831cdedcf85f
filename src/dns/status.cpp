// Names of DnsStatus values: the strings stored and reported.
#include "dns/status.hpp"

namespace relayscope::dns {

std::string_view to_string(DnsStatus status) {
  switch (status) {
    case DnsStatus::ok:
      return "ok";
    case DnsStatus::nxdomain:
      return "nxdomain";
    case DnsStatus::nodata:
      return "nodata";
    case DnsStatus::servfail:
      return "servfail";
    case DnsStatus::timeout:
      return "timeout";
    case DnsStatus::refused:
      return "refused";
    case DnsStatus::null_mx:
      return "null_mx";
    case DnsStatus::no_address:
      return "no_address";
    case DnsStatus::out_of_scope:
      return "out_of_scope";
    case DnsStatus::error:
      return "error";
  }
  return "error";
}

}  // namespace relayscope::dns
