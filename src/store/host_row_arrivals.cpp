// See host_row_arrivals.hpp.
#include "store/host_row_arrivals.hpp"

namespace relayscope::store {

void ArrivedTokens::add(const std::string& token, const std::string& kind) {
  (kind == "delivery" ? delivered : bounced).insert(token);
}

void mark_arrivals(HostRow& h, const ArrivedTokens& arrived) {
  if (h.token.empty()) return;
  h.delivered = arrived.delivered.count(h.token) > 0;
  h.bounced = arrived.bounced.count(h.token) > 0;
}

void fold_variant(HostRow& h, const VariantResult& v, const ArrivedTokens& arrived) {
  if (v.outcome == "OK") h.relaying_variants.push_back(v.name);
  if (v.outcome == variant_not_tried) h.untried_variants.push_back(v.name);
  if (v.token.empty()) return;
  h.delivered = h.delivered || arrived.delivered.count(v.token) > 0;
  h.bounced = h.bounced || arrived.bounced.count(v.token) > 0;
}

}  // namespace relayscope::store
