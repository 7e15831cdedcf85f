// Fuzzes the metrics endpoint's HTTP request parser and its routing, whole
// and fed in pieces as a socket would. Invariants: a complete parse consumes
// at most the input and no more than the bound, a bad one carries a status,
// only GET or HEAD of /metrics asks for the body, and the answer is HTTP/1.1
// with a length that matches.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "metrics/http_request.hpp"

using namespace relayscope::metrics;

namespace {

void check(std::string_view in, std::size_t bound) {
  auto r = parse_request(in, bound);
  switch (r.status) {
    case ParseStatus::incomplete:
      FUZZ_CHECK(in.size() <= bound);
      break;
    case ParseStatus::complete:
      FUZZ_CHECK(r.consumed > 0 && r.consumed <= in.size() && r.consumed <= bound);
      FUZZ_CHECK(!r.request.method.empty() && !r.request.target.empty());
      FUZZ_CHECK(r.request.minor_version >= 0 && r.request.minor_version <= 9);
      break;
    case ParseStatus::bad:
      FUZZ_CHECK(r.error_status >= 400 && r.error_status <= 599 && !r.error.empty());
      break;
  }
  bool asked = false;
  auto body = [&asked] {
    asked = true;
    return std::string("relayscope_x 1\n");
  };
  auto resp = route(r, body);
  if (asked) {
    FUZZ_CHECK(r.status == ParseStatus::complete);
    FUZZ_CHECK(r.request.method == "GET" || r.request.method == "HEAD");
    FUZZ_CHECK(resp.status == 200);
  } else {
    FUZZ_CHECK(resp.status != 200);
  }
  auto wire = serialize(resp);
  FUZZ_CHECK(wire.rfind("HTTP/1.1 ", 0) == 0);
  auto end = wire.find("\r\n\r\n");
  FUZZ_CHECK(end != std::string::npos);
  FUZZ_CHECK(wire.size() - end - 4 == (resp.head_only ? 0 : resp.body.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check(in, kMaxRequestHead);
  check(in, 64);
  // As a socket delivers it: every prefix the server would parse.
  for (std::size_t cut = 1; cut < in.size() && cut < 512; cut *= 2) check(in.substr(0, cut), 256);
  return 0;
}
