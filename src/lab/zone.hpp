// The lab's DNS data, pure: name -> records (in presentation form) and a
// per-name fault (SERVFAIL, or no answer at all), built from the plan so that
// it is testable without sockets. Names are lower case without the trailing
// dot. Records given by users (--zone-extra, Lab::add_record) are validated
// with ldns before they enter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/expected.hpp"
#include "lab/plan.hpp"

namespace relayscope::lab {

namespace rrtype {
inline constexpr std::uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, MX = 15, TXT = 16, AAAA = 28;
}

enum class Fault : std::uint8_t { none, servfail, drop };

struct Record {
  std::uint16_t type = 0;
  std::string rdata;  // presentation form, names absolute ("10 mx.d1.test.")
};

struct NameEntry {
  Fault fault = Fault::none;
  std::vector<Record> records;
};

class Zone {
 public:
  explicit Zone(std::string origin = "test");

  // A record in presentation form, "NAME [TTL] [IN] TYPE RDATA"; names may
  // omit the trailing dot. Convenience: "NAME MX IPV4" stands for
  // "NAME MX 10 mx.NAME" plus "mx.NAME A IPV4" (an MX target must be a name).
  // Errors: bad syntax, a type ldns does not know, a name outside the zone.
  Status add_text(std::string_view text);
  // Trusted insertion (the plan's own records).
  void add(const std::string& name, std::uint16_t type, std::string rdata);
  // Replaces every record of `type` at `name` (an extra record overrides).
  void remove(const std::string& name, std::uint16_t type);
  void set_fault(const std::string& name, Fault fault);

  const NameEntry* find(std::string_view name) const;
  bool in_zone(std::string_view name) const;
  const std::string& origin() const { return origin_; }
  std::size_t size() const { return names_.size(); }
  std::uint32_t ttl() const { return 300; }

 private:
  std::string origin_;
  std::unordered_map<std::string, NameEntry> names_;
};

// The zone of a plan: SOA and NS at the origin (ns.test at `dns_ip`), and per
// domain the records of its resolution style or of its failure.
Zone build_zone(const LabPlan& plan, const std::string& dns_ip);

// Lower case, without the trailing dot.
std::string normalize_name(std::string_view name);
const char* type_name(std::uint16_t type);  // "A", "MX"...; "TYPE<n>" not covered

}  // namespace relayscope::lab
