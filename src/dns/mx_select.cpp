// See mx_select.hpp. Everything here is deterministic in its inputs.
#include "dns/mx_select.hpp"

#include <algorithm>

#include "common/cidr.hpp"
#include "common/seeded_rng.hpp"

namespace relayscope::dns {

std::string normalize_name(std::string_view name) {
  std::string out(name);
  while (!out.empty() && out.back() == '.') out.pop_back();
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_null_mx(const std::vector<MxRecord>& records) {
  if (records.empty()) return false;
  return std::all_of(records.begin(), records.end(),
                     [](const MxRecord& r) { return normalize_name(r.host).empty(); });
}

bool is_ip_literal_target(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return true;
  auto h = normalize_name(host);
  return IpAddress::parse(h).has_value();
}

std::vector<MxRecord> order_mx(std::vector<MxRecord> records, std::string_view domain,
                               std::uint64_t seed) {
  for (auto& r : records) r.host = normalize_name(r.host);
  std::erase_if(records, [](const MxRecord& r) { return r.host.empty(); });
  // Canonical order first, so that the shuffle below does not depend on the
  // order in which the server listed the records.
  std::sort(records.begin(), records.end(), [](const MxRecord& a, const MxRecord& b) {
    return a.preference != b.preference ? a.preference < b.preference : a.host < b.host;
  });
  std::vector<MxRecord> unique;
  for (auto& r : records) {
    bool seen = std::any_of(unique.begin(), unique.end(),
                            [&](const MxRecord& u) { return u.host == r.host; });
    if (!seen) unique.push_back(std::move(r));
  }
  SeededRng rng(seed, normalize_name(domain));
  for (std::size_t begin = 0; begin < unique.size();) {
    std::size_t end = begin + 1;
    while (end < unique.size() && unique[end].preference == unique[begin].preference) ++end;
    // Fisher-Yates over [begin, end).
    for (std::size_t i = end - 1; i > begin; --i) {
      auto j = begin + static_cast<std::size_t>(rng.below(i - begin + 1));
      std::swap(unique[i], unique[j]);
    }
    begin = end;
  }
  return unique;
}

std::string choose_address(std::vector<std::string> addresses, std::string_view host,
                           std::uint64_t seed) {
  if (addresses.empty()) return {};
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  SeededRng rng(seed, normalize_name(host));
  return addresses[static_cast<std::size_t>(rng.below(addresses.size()))];
}

}  // namespace relayscope::dns
