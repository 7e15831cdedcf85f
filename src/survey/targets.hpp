// Step 1 of the survey: from e-mail addresses to unique domains with how many
// names each had. Reads plain address lists (one a line), mbox or header
// files (addresses on From:/To:/Cc: lines), or, with --domains, domains and
// IP addresses directly (bare, "[2001:db8::25]" or "[IPv6:2001:db8::25]"). A line without an
// address is counted, never fatal. Domains are lower-cased and converted to A-labels (libidn2).
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::survey {

struct Targets {
  std::int64_t names = 0;                       // addresses read
  std::int64_t lines_without_address = 0;       // non-empty, non-comment lines that held none
  std::map<std::string, std::int64_t> domains;  // A-label -> names
  std::vector<std::string> ips;                 // bare IPs given with --domains, probed directly
  std::vector<std::string> rejected;            // the first few lines that held no usable address
};

// Lower-cases and converts to an A-label; strips one trailing dot. Error for
// what is not a valid host name.
Expected<std::string> normalise_domain(std::string_view domain);

// The domain right of the last '@' of one address, or nullopt.
std::optional<std::string> domain_of_address(std::string_view address);

enum class TargetFormat { addresses, domains };

Targets read_targets(std::istream& in, TargetFormat format);
Expected<Targets> read_targets_file(const std::string& path, TargetFormat format);

}  // namespace relayscope::survey
