// The lab's ground truth as JSON: the plan (per host: address, domain, MX
// name, behaviour, the outcome the survey should classify, the fate of an
// accepted message, the trick variants it relays for) and what the ledger
// saw happen. Pure: plan and ledger snapshot in, text out.
#pragma once

#include <string>
#include <unordered_map>

#include "lab/ledger.hpp"
#include "lab/plan.hpp"

namespace relayscope::lab {

struct TruthHeader {
  std::string profile;
  std::uint64_t seed = 0;
  std::string dns;
  std::uint16_t port = 0;
  std::uint16_t relay_port = 0;
};

std::string truth_json(const TruthHeader& header, const LabPlan& plan,
                       const std::unordered_map<std::size_t, HostTally>& tallies,
                       const LedgerTotals& totals);

}  // namespace relayscope::lab
