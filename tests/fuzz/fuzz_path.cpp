// Fuzzes the path grammar and the IP literal grammar. Invariants: limits
// hold, parse->wire->parse gives the same values, canonical IPs re-parse.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/ip_literal.hpp"
#include "smtp/path.hpp"

using namespace relayscope::smtp;

namespace {

bool same(const Path& a, const Path& b) {
  return a.null == b.null && a.source_route == b.source_route &&
         a.mailbox.local_part == b.mailbox.local_part &&
         a.mailbox.host.kind == b.mailbox.host.kind && a.mailbox.host.text == b.mailbox.host.text;
}

bool ascii_printable(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 32 || u > 126) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::uint8_t mode = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  PathKind kind = (mode & 1) ? PathKind::forward : PathKind::reverse;
  bool lenient = (mode & 2) != 0;
  PathLimits limits;

  auto p = parse_path(in, kind, lenient, limits);
  if (p) {
    FUZZ_CHECK(in.size() <= limits.max_path);
    FUZZ_CHECK(ascii_printable(in));
    if (p->null) {
      FUZZ_CHECK(kind == PathKind::reverse && in == "<>");
    } else {
      FUZZ_CHECK(p->mailbox.local_part.size() <= limits.max_local_part);
      FUZZ_CHECK(p->mailbox.host.text.size() <= limits.max_domain);
      FUZZ_CHECK(ascii_printable(p->mailbox.local_part));
    }
    std::string wire = p->wire();
    PathLimits roomy = limits;
    roomy.max_path += 2;  // a lenient bare address gains its brackets
    auto again = parse_path(wire, kind, lenient, roomy);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(same(*p, *again));
    FUZZ_CHECK(again->wire() == wire);
    if (!lenient) FUZZ_CHECK(wire.size() <= in.size());
  }

  if (auto m = parse_mailbox(in)) {
    auto again = parse_mailbox(m->wire());
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->local_part == m->local_part && again->host.text == m->host.text);
  }
  if (auto h = parse_host(in, lenient)) {
    auto again = parse_host(h->wire(), lenient);
    FUZZ_CHECK(again.has_value() && again->kind == h->kind && again->text == h->text);
  }
  if (is_dot_string(in))
    FUZZ_CHECK(parse_mailbox(std::string(in) + "@h").has_value() || in.size() > 64);

  if (auto v4 = parse_ipv4(in)) {
    auto again = parse_ipv4(format_ipv4(*v4));
    FUZZ_CHECK(again && *again == *v4);
  }
  if (auto v6 = parse_ipv6(in)) {
    std::string text = format_ipv6(*v6);
    auto again = parse_ipv6(text);
    FUZZ_CHECK(again && *again == *v6);
    FUZZ_CHECK(format_ipv6(*again) == text);
  }
  return 0;
}
