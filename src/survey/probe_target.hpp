// What a probe is given: one host to probe (ProbeTarget), a plain record with
// no asio in it, so that the wire between the survey's processes
// (record_codec.hpp) and its fuzz target build without the network stack.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace relayscope::survey {

struct ProbeTarget {
  std::int64_t host_id = 0;
  std::string ip;
  std::string domain;
  std::string mx_host;
  std::vector<std::string> fallback_ips;
  // Empty: the probe draws a new token. A greylist retry (greylist.hpp)
  // carries the first try's, so its sender and recipient are the same.
  std::string token;
  // A greylist retry's: the variants (trick indices) that the first try had
  // a final answer to (not 4xx: RFC 5321 4.2.1, a 5yz is not to be repeated).
  // They are not sent again; the record keeps the first try's answers.
  std::vector<std::uint8_t> settled_variants;
};

}  // namespace relayscope::survey
