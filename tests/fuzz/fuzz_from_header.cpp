// Fuzzes the From: address extractor. Invariants: a success names 1 to
// max_from_addresses addresses, each with an '@', a lower-case domain and no
// line break; the result does not depend on what follows the header section.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/from_header.hpp"

using namespace relayscope::smtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = from_header_addresses(in);
  if (!r) return 0;
  FUZZ_CHECK(!r->empty() && r->size() <= max_from_addresses);
  for (const auto& a : *r) {
    auto at = a.rfind('@');
    FUZZ_CHECK(at != std::string::npos && at > 0 && at + 1 < a.size());
    FUZZ_CHECK(a.find('\n') == std::string::npos && a.find('\r') == std::string::npos);
    for (char c : a.substr(at + 1)) {
      FUZZ_CHECK(!std::isupper(static_cast<unsigned char>(c)));
    }
  }
  // A body after the header section changes nothing (when there is one).
  if (in.find("\n\n") != std::string_view::npos || in.find("\n\r\n") != std::string_view::npos) {
    std::string longer(in);
    longer += "\r\nFrom: other@example.test\r\n";
    auto again = from_header_addresses(longer);
    FUZZ_CHECK(again && *again == *r);
  }
  return 0;
}
