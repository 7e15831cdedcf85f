// See json_list.hpp.
#include "store/json_list.hpp"

#include <nlohmann/json.hpp>

namespace relayscope::store {

std::string to_json_list(const std::vector<std::string>& v) {
  if (v.empty()) return {};
  return nlohmann::json(v).dump();
}

std::vector<std::string> from_json_list(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace relayscope::store
