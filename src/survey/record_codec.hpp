// The wire between `survey --processes N`'s parent and its probing children:
// frames (a 4-byte length, a type byte, a body) carrying the run's options,
// batches of hosts to probe, finished probe records whole (transcript and
// variants), counters for --metrics and each child's summary. Pure: bytes in,
// values out, no I/O. The peer is our own child, yet nothing it sends is
// trusted: every read is bounds-checked and every count weighed against the
// bytes left before anything is allocated, so a truncated or corrupt frame
// (a child killed mid-write) is an error value, never a crash or a partial
// record (unit-tested with every truncation of a record).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"
#include "survey/probe_target.hpp"

namespace relayscope::survey::wire {

enum class Type : std::uint8_t {
  // parent -> child
  config = 1,  // the child's options as JSON text (process_pool.cpp)
  hosts = 2,   // a batch of targets; `last` says no more will come
  stop = 3,    // start no new probe; finish those in flight, send them, exit
  // child -> parent
  want = 10,     // asks for up to N more hosts
  probes = 11,   // finished probes, each whole
  counts = 12,   // the child's running totals (also its heartbeat)
  summary = 13,  // the child's last frame: what its scheduler counted
};

// A frame's body is at most this long; longer is corrupt.
inline constexpr std::uint32_t max_frame = 256u * 1024 * 1024;

// One frame: 4 bytes of body length (big-endian, the type byte included),
// the type, the body.
std::string frame(Type type, std::string_view body);

struct Frame {
  Type type{};
  std::string body;
};

// Takes the first whole frame off the front of `buffer`: nullopt while it is
// incomplete; an error for a length past max_frame or an empty frame.
struct Cut {
  bool error = false;
  std::optional<Frame> frame;
};
Cut take_frame(std::string& buffer);

struct HostBatch {
  std::vector<ProbeTarget> targets;
  bool last = false;
};

// The child's totals so far, for --metrics (observer.hpp's events).
struct Counts {
  std::int64_t started = 0;
  std::int64_t deferred = 0;
  std::int64_t local_failures = 0;
};

struct ChildSummary {
  std::int64_t local_failures = 0;
  std::int64_t given_up = 0;
  std::int64_t greylist_retried = 0;
  bool interrupted = false;
  std::string error;  // empty: the scheduler ended well
};

std::string encode_hosts(const HostBatch& batch);
std::optional<HostBatch> decode_hosts(std::string_view body);

std::string encode_probes(const std::vector<store::Probe>& probes);
std::optional<std::vector<store::Probe>> decode_probes(std::string_view body);

std::string encode_counts(const Counts& c);
std::optional<Counts> decode_counts(std::string_view body);

std::string encode_summary(const ChildSummary& s);
std::optional<ChildSummary> decode_summary(std::string_view body);

std::string encode_want(std::uint32_t n);
std::optional<std::uint32_t> decode_want(std::string_view body);

}  // namespace relayscope::survey::wire
