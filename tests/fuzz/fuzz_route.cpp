// Fuzzes route resolution. Invariants: hops normalised (lower case, no
// trailing dot), the final hop is the last one listed, and the safe rule:
// nothing ambiguous is local, and with no local names only a route that
// mentions no host at all can be.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/route.hpp"

using namespace relayscope::smtp;

namespace {

void check(const Route& r, std::string_view local_part) {
  for (const auto& d : r.domains_in_order) {
    for (char c : d) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    if (!r.ambiguous) FUZZ_CHECK(!d.empty() && d.back() != '.');
  }
  FUZZ_CHECK(r.has_literal == !r.literals.empty());
  if (r.has_general_literal) FUZZ_CHECK(r.has_literal);
  if (!r.final_domain.empty() && !r.final_is_literal) {
    FUZZ_CHECK(!r.domains_in_order.empty() && r.domains_in_order.back() == r.final_domain);
  }
  if (r.final_is_literal) FUZZ_CHECK(r.final_domain.front() == '[' && r.final_domain.back() == ']');
  FUZZ_CHECK(local_part.find(r.final_local_part) != std::string_view::npos);
  auto yes = [](std::string_view) { return true; };
  auto no = [](std::string_view) { return false; };
  if (r.ambiguous) FUZZ_CHECK(!r.is_local(yes, yes));
  if (!r.ambiguous && !r.has_general_literal) FUZZ_CHECK(r.is_local(yes, yes));
  bool mentions = !r.domains_in_order.empty() || r.has_literal;
  if (mentions) FUZZ_CHECK(!r.is_local(no, no));
  if (!r.domains_in_order.empty()) FUZZ_CHECK(!r.is_local(no, yes));
  if (r.has_literal) FUZZ_CHECK(!r.is_local(yes, no));
  // No trick is undone silently: every separator left a hop or an ambiguity.
  if (r.final_local_part.find_first_of("%@!") != std::string::npos) FUZZ_CHECK(false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  bool lenient = (data[0] & 1) != 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  if (auto p = parse_path(in, PathKind::forward, lenient)) {
    check(resolve_route(*p), p->mailbox.local_part);
  }
  // A bare local part, as a mailbox without a host.
  Mailbox bare;
  bare.local_part.assign(in.substr(0, 512));
  check(resolve_route(bare), bare.local_part);
  return 0;
}
