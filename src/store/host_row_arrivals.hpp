// How a row of `report --hosts` learns from the collector's arrivals and
// from its probe's variants: the same for every backend, so both stores
// call these instead of each spelling the rules out.
#pragma once

#include <set>
#include <string>

#include "store/store.hpp"

namespace relayscope::store {

// The tokens that arrived, split by kind ("delivery" or a bounce).
struct ArrivedTokens {
  std::set<std::string> delivered;
  std::set<std::string> bounced;
  void add(const std::string& token, const std::string& kind);
};

// The probe's own test message: delivered and bounced from its token.
void mark_arrivals(HostRow& h, const ArrivedTokens& arrived);

// One variant of the probe: named among the relaying or untried ones, and
// its message's arrival counted for the host.
void fold_variant(HostRow& h, const VariantResult& v, const ArrivedTokens& arrived);

}  // namespace relayscope::store
