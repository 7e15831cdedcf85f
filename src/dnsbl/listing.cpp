#include "dnsbl/listing.hpp"

#include <algorithm>

#include "common/cidr.hpp"

namespace relayscope::dnsbl {

bool relays(const store::HostRow& row, std::string* variant) {
  if (row.outcome == "OK" || row.outcome == "QUIT") {
    if (variant) *variant = "imc";
    return true;
  }
  if (!row.relaying_variants.empty()) {
    if (variant) *variant = row.relaying_variants.front();
    return true;
  }
  return false;
}

void ListingBuilder::add_run(const store::Run& run, const std::vector<store::HostRow>& rows) {
  std::string date = run.started_at.substr(0, 10);
  for (const auto& row : rows) {
    std::string variant;
    if (relays(row, &variant)) {
      listed_[row.ip] = Listing{row.ip, date, variant, run.id};
    } else if (row.outcome != "CONNECT" && !row.outcome.empty()) {
      listed_.erase(row.ip);  // reached and found closed
    }
  }
}

std::vector<Listing> ListingBuilder::listings() const {
  std::vector<Listing> out;
  for (const auto& [ip, l] : listed_) out.push_back(l);
  std::sort(out.begin(), out.end(), [](const Listing& a, const Listing& b) {
    auto x = IpAddress::parse(a.ip), y = IpAddress::parse(b.ip);
    if (x && y) return *x < *y;
    return a.ip < b.ip;
  });
  return out;
}

}  // namespace relayscope::dnsbl
