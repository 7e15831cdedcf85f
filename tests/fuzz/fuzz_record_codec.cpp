// Fuzzes the wire between `survey --processes N`'s parent and its children
// (survey/record_codec.hpp): the first byte picks a frame type, the rest is
// that frame's body, decoded as the parent or a child would. Invariants: a
// body that decodes re-encodes to as many bytes, and that encoding decodes
// to the same value and encodes to the same bytes again (decode(encode(x))
// == x); and take_frame, run over the whole input, cuts frames that
// frame() writes back to the very bytes it consumed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "survey/record_codec.hpp"

using namespace relayscope;
using namespace relayscope::survey;

namespace {

bool same(const ProbeTarget& a, const ProbeTarget& b) {
  return a.host_id == b.host_id && a.ip == b.ip && a.domain == b.domain && a.mx_host == b.mx_host &&
         a.fallback_ips == b.fallback_ips && a.token == b.token;
}

bool same(const wire::HostBatch& a, const wire::HostBatch& b) {
  if (a.last != b.last || a.targets.size() != b.targets.size()) return false;
  for (std::size_t i = 0; i < a.targets.size(); ++i)
    if (!same(a.targets[i], b.targets[i])) return false;
  return true;
}

bool same(const store::TranscriptLine& a, const store::TranscriptLine& b) {
  return a.t_us == b.t_us && a.direction == b.direction && a.text == b.text;
}

bool same(const store::VariantResult& a, const store::VariantResult& b) {
  return a.name == b.name && a.mail_from == b.mail_from && a.rcpt_to == b.rcpt_to &&
         a.outcome == b.outcome && a.code == b.code && a.token == b.token;
}

// Declared before same_list, whose lookup does not reach later overloads.
bool same(const store::Probe& a, const store::Probe& b);

template <class T>
bool same_list(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) return false;
  return true;
}

bool same(const store::Probe& a, const store::Probe& b) {
  return a.host_id == b.host_id && a.ip == b.ip && a.domain == b.domain && a.outcome == b.outcome &&
         a.code == b.code && a.reason == b.reason && a.token == b.token &&
         a.started_at == b.started_at && a.duration_us == b.duration_us &&
         a.greeting_host == b.greeting_host && a.esmtp == b.esmtp &&
         a.starttls_offered == b.starttls_offered && same_list(a.transcript, b.transcript) &&
         same_list(a.variants, b.variants) && a.greylisted == b.greylisted &&
         a.first_code == b.first_code && a.first_reply == b.first_reply;
}

bool same(const std::vector<store::Probe>& a, const std::vector<store::Probe>& b) {
  return same_list(a, b);
}

bool same(const wire::Counts& a, const wire::Counts& b) {
  return a.started == b.started && a.deferred == b.deferred && a.local_failures == b.local_failures;
}

bool same(const wire::ChildSummary& a, const wire::ChildSummary& b) {
  return a.local_failures == b.local_failures && a.given_up == b.given_up &&
         a.greylist_retried == b.greylist_retried && a.interrupted == b.interrupted &&
         a.error == b.error;
}

bool same(std::uint32_t a, std::uint32_t b) {
  return a == b;
}

// The round trip of one decoder and its encoder over `body`.
template <class Decode, class Encode>
void round_trip(std::string_view body, Decode decode, Encode encode) {
  auto x = decode(body);
  if (!x) return;
  const std::string bytes = encode(*x);
  // Fixed-width integers and counted strings: only flags and out-of-range
  // codes have another spelling, never another length.
  FUZZ_CHECK(bytes.size() == body.size());
  auto y = decode(bytes);
  FUZZ_CHECK(y && same(*x, *y));
  FUZZ_CHECK(encode(*y) == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (!in.empty()) {
    const auto type = static_cast<wire::Type>(static_cast<std::uint8_t>(in[0]));
    const auto body = in.substr(1);
    switch (type) {
      case wire::Type::hosts:
        round_trip(body, wire::decode_hosts, wire::encode_hosts);
        break;
      case wire::Type::probes:
        round_trip(body, wire::decode_probes, wire::encode_probes);
        break;
      case wire::Type::counts:
        round_trip(body, wire::decode_counts, wire::encode_counts);
        break;
      case wire::Type::summary:
        round_trip(body, wire::decode_summary, wire::encode_summary);
        break;
      case wire::Type::want:
        round_trip(body, wire::decode_want, wire::encode_want);
        break;
      default:  // config (JSON text, process_pool.cpp) and stop carry no record
        break;
    }
  }

  // The same bytes as a stream off a child's pipe.
  std::string buffer(in);
  for (;;) {
    const std::string before = buffer;
    auto cut = wire::take_frame(buffer);
    if (cut.error || !cut.frame) {
      FUZZ_CHECK(buffer == before);  // nothing consumed from an incomplete or corrupt head
      break;
    }
    const auto again = wire::frame(cut.frame->type, cut.frame->body);
    FUZZ_CHECK(before.size() == again.size() + buffer.size());
    FUZZ_CHECK(before.compare(0, again.size(), again) == 0);
  }
  return 0;
}
