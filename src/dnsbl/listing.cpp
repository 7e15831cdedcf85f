#include "dnsbl/listing.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/cidr.hpp"

namespace relayscope::dnsbl {

namespace {

// Whether the run tried the trick spellings (survey --variants all): only
// such a run can clear a host that was listed for one of them.
bool run_tried_variants(const store::Run& run) {
  auto j = nlohmann::json::parse(run.params_json, nullptr, false);
  if (!j.is_object()) return false;
  auto it = j.find("variants_all");
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

// The IMC's own test went through DATA (QUIT: only the goodbye failed).
bool accepted_imc_test(const store::HostRow& row) {
  return row.outcome == "OK" || row.outcome == "QUIT";
}

// A permanent refusal is the only proof of a closed host: a 4xx, a timeout
// or a reset may pass, and the host may relay again tomorrow.
bool refused_for_good(const store::HostRow& row) {
  return row.code >= 500 && row.code < 600 && !accepted_imc_test(row);
}

}  // namespace

bool relays(const store::HostRow& row, Evidence evidence, std::string* variant) {
  bool accepted_imc = accepted_imc_test(row);
  if (evidence == Evidence::delivered) {
    if (!row.delivered) return false;
    if (variant)
      *variant =
          accepted_imc || row.relaying_variants.empty() ? "imc" : row.relaying_variants.front();
    return true;
  }
  if (accepted_imc) {
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
  bool tried_variants = run_tried_variants(run);
  for (const auto& row : rows) {
    std::string variant;
    if (relays(row, evidence_, &variant)) {
      listed_[row.ip] = Listing{row.ip, date, variant, run.id, evidence_};
      continue;
    }
    auto it = listed_.find(row.ip);
    if (it == listed_.end() || !refused_for_good(row)) continue;
    bool listed_for_a_trick = it->second.variant != "imc";
    if (listed_for_a_trick && !tried_variants) continue;
    const auto& untried = row.untried_variants;
    if (std::find(untried.begin(), untried.end(), it->second.variant) != untried.end()) {
      continue;  // the server closed before that trick was tried: no word on it
    }
    if (!row.relaying_variants.empty()) continue;  // a trick still went through DATA
    listed_.erase(it);
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
