// Lists of addresses (a host's MX names, a probe's recipients...) are kept
// in one text column as a JSON array, the same way in both backends.
#pragma once

#include <string>
#include <vector>

namespace relayscope::store {

// "" for an empty list, else a JSON array of strings.
std::string to_json_list(const std::vector<std::string>& v);

// The strings of a JSON array; anything else (empty, malformed, not an
// array, non-string elements) reads as the strings it has, or none.
std::vector<std::string> from_json_list(const std::string& text);

}  // namespace relayscope::store
