// Fuzzes the PROXY protocol parser (v1 and v2). Invariants: a complete header
// is within its version's bound and no longer than the input; the verdict
// does not change when more bytes follow a complete header; every strict
// prefix of a complete header is "need more"; an invalid input stays invalid
// with more bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/proxy_header.hpp"

using namespace relayscope::smtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto p = parse_proxy_header(in);
  std::string more(in);
  more += "EHLO x\r\n";
  auto q = parse_proxy_header(more);
  switch (p.status) {
    case ProxyStatus::complete: {
      const auto& h = p.header;
      FUZZ_CHECK(h.length > 0 && h.length <= in.size());
      FUZZ_CHECK(h.version == 1 || h.version == 2);
      FUZZ_CHECK(h.length <= (h.version == 1 ? max_proxy_v1_length : max_proxy_v2_length));
      FUZZ_CHECK(h.proxied || !h.has_addresses);
      FUZZ_CHECK(q.status == ProxyStatus::complete && q.header.length == h.length);
      FUZZ_CHECK(q.header.has_addresses == h.has_addresses);
      if (h.has_addresses) FUZZ_CHECK(q.header.source == h.source);
      for (std::size_t n = 0; n < h.length; ++n) {
        FUZZ_CHECK(parse_proxy_header(in.substr(0, n)).status == ProxyStatus::need_more);
      }
      break;
    }
    case ProxyStatus::invalid:
      FUZZ_CHECK(!p.error.empty());
      FUZZ_CHECK(q.status == ProxyStatus::invalid);
      break;
    case ProxyStatus::need_more:
      FUZZ_CHECK(in.size() < max_proxy_v2_length);
      break;
  }
  return 0;
}
