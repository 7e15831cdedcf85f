// See record_codec.hpp. Integers go big-endian in fixed width, strings and
// lists as a 4-byte count then their items; every count is checked against
// what is left of the body before anything is allocated for it.
#include "survey/record_codec.hpp"

namespace relayscope::survey::wire {

namespace {

class Out {
 public:
  void u8(std::uint8_t v) { s_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
  }
  void i64(std::int64_t v) {
    auto u = static_cast<std::uint64_t>(v);
    for (int shift = 56; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(u >> shift));
  }
  void str(std::string_view v) {
    u32(static_cast<std::uint32_t>(v.size()));
    s_.append(v);
  }
  void strs(const std::vector<std::string>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& x : v) str(x);
  }
  std::string take() { return std::move(s_); }

 private:
  std::string s_;
};

// Reads fail once: after the first short read every later one fails too, so
// a decoder checks ok() once at its end.
class In {
 public:
  explicit In(std::string_view s) : s_(s) {}
  std::uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<std::uint8_t>(s_[pos_++]);
  }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(s_[pos_++]);
    return v;
  }
  std::int64_t i64() {
    if (!need(8)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(s_[pos_++]);
    return static_cast<std::int64_t>(v);
  }
  bool flag() { return u8() != 0; }
  std::string str() {
    auto n = u32();
    if (!need(n)) return {};
    std::string v(s_.substr(pos_, n));
    pos_ += n;
    return v;
  }
  // A count of items each at least `min_item` bytes long: more than the
  // rest of the body could hold is corrupt (and is not allocated).
  std::uint32_t count(std::size_t min_item) {
    auto n = u32();
    if (ok_ && static_cast<std::uint64_t>(n) * min_item > s_.size() - pos_) ok_ = false;
    return ok_ ? n : 0;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(count(4));
    for (auto& x : v) x = str();
    return v;
  }
  // Every byte read, none left over.
  bool done() const { return ok_ && pos_ == s_.size(); }

 private:
  bool need(std::size_t n) {
    if (ok_ && n > s_.size() - pos_) ok_ = false;
    return ok_;
  }
  std::string_view s_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

void put_target(Out& o, const ProbeTarget& t) {
  o.i64(t.host_id);
  o.str(t.ip);
  o.str(t.domain);
  o.str(t.mx_host);
  o.strs(t.fallback_ips);
  o.str(t.token);
}

ProbeTarget get_target(In& in) {
  ProbeTarget t;
  t.host_id = in.i64();
  t.ip = in.str();
  t.domain = in.str();
  t.mx_host = in.str();
  t.fallback_ips = in.strs();
  t.token = in.str();
  return t;
}

void put_probe(Out& o, const store::Probe& p) {
  o.i64(p.host_id);
  o.str(p.ip);
  o.str(p.domain);
  o.str(p.outcome);
  o.i64(p.code);
  o.str(p.reason);
  o.str(p.token);
  o.str(p.started_at);
  o.i64(p.duration_us);
  o.str(p.greeting_host);
  o.u8(p.esmtp ? 1 : 0);
  o.u8(p.starttls_offered ? 1 : 0);
  o.u32(static_cast<std::uint32_t>(p.transcript.size()));
  for (const auto& l : p.transcript) {
    o.i64(l.t_us);
    o.u8(static_cast<std::uint8_t>(l.direction));
    o.str(l.text);
  }
  o.u32(static_cast<std::uint32_t>(p.variants.size()));
  for (const auto& v : p.variants) {
    o.str(v.name);
    o.str(v.mail_from);
    o.str(v.rcpt_to);
    o.str(v.outcome);
    o.i64(v.code);
    o.str(v.token);
  }
  o.u8(p.greylisted ? 1 : 0);
  o.i64(p.first_code);
  o.str(p.first_reply);
}

store::Probe get_probe(In& in) {
  store::Probe p;
  p.host_id = in.i64();
  p.ip = in.str();
  p.domain = in.str();
  p.outcome = in.str();
  p.code = static_cast<int>(in.i64());
  p.reason = in.str();
  p.token = in.str();
  p.started_at = in.str();
  p.duration_us = in.i64();
  p.greeting_host = in.str();
  p.esmtp = in.flag();
  p.starttls_offered = in.flag();
  p.transcript.resize(in.count(8 + 1 + 4));
  for (auto& l : p.transcript) {
    l.t_us = in.i64();
    l.direction = static_cast<char>(in.u8());
    l.text = in.str();
  }
  p.variants.resize(in.count(5 * 4 + 8 + 4));
  for (auto& v : p.variants) {
    v.name = in.str();
    v.mail_from = in.str();
    v.rcpt_to = in.str();
    v.outcome = in.str();
    v.code = static_cast<int>(in.i64());
    v.token = in.str();
  }
  p.greylisted = in.flag();
  p.first_code = static_cast<int>(in.i64());
  p.first_reply = in.str();
  return p;
}

}  // namespace

std::string frame(Type type, std::string_view body) {
  Out o;
  o.u32(static_cast<std::uint32_t>(body.size() + 1));
  o.u8(static_cast<std::uint8_t>(type));
  auto s = o.take();
  s.append(body);
  return s;
}

Cut take_frame(std::string& buffer) {
  if (buffer.size() < 4) return {};
  In in(std::string_view(buffer).substr(0, 4));
  const auto n = in.u32();
  if (n == 0 || n > max_frame) return {true, std::nullopt};
  if (buffer.size() - 4 < n) return {};
  Frame f;
  f.type = static_cast<Type>(static_cast<std::uint8_t>(buffer[4]));
  f.body = buffer.substr(5, n - 1);
  buffer.erase(0, 4 + static_cast<std::size_t>(n));
  return {false, std::move(f)};
}

std::string encode_hosts(const HostBatch& batch) {
  Out o;
  o.u8(batch.last ? 1 : 0);
  o.u32(static_cast<std::uint32_t>(batch.targets.size()));
  for (const auto& t : batch.targets) put_target(o, t);
  return o.take();
}

std::optional<HostBatch> decode_hosts(std::string_view body) {
  In in(body);
  HostBatch b;
  b.last = in.flag();
  b.targets.resize(in.count(8 + 5 * 4));
  for (auto& t : b.targets) t = get_target(in);
  if (!in.done()) return std::nullopt;
  return b;
}

std::string encode_probes(const std::vector<store::Probe>& probes) {
  Out o;
  o.u32(static_cast<std::uint32_t>(probes.size()));
  for (const auto& p : probes) put_probe(o, p);
  return o.take();
}

std::optional<std::vector<store::Probe>> decode_probes(std::string_view body) {
  In in(body);
  std::vector<store::Probe> v(in.count(64));
  for (auto& p : v) p = get_probe(in);
  if (!in.done()) return std::nullopt;
  return v;
}

std::string encode_counts(const Counts& c) {
  Out o;
  o.i64(c.started);
  o.i64(c.deferred);
  o.i64(c.local_failures);
  return o.take();
}

std::optional<Counts> decode_counts(std::string_view body) {
  In in(body);
  Counts c;
  c.started = in.i64();
  c.deferred = in.i64();
  c.local_failures = in.i64();
  if (!in.done()) return std::nullopt;
  return c;
}

std::string encode_summary(const ChildSummary& s) {
  Out o;
  o.i64(s.local_failures);
  o.i64(s.given_up);
  o.i64(s.greylist_retried);
  o.u8(s.interrupted ? 1 : 0);
  o.str(s.error);
  return o.take();
}

std::optional<ChildSummary> decode_summary(std::string_view body) {
  In in(body);
  ChildSummary s;
  s.local_failures = in.i64();
  s.given_up = in.i64();
  s.greylist_retried = in.i64();
  s.interrupted = in.flag();
  s.error = in.str();
  if (!in.done()) return std::nullopt;
  return s;
}

std::string encode_want(std::uint32_t n) {
  Out o;
  o.u32(n);
  return o.take();
}

std::optional<std::uint32_t> decode_want(std::string_view body) {
  In in(body);
  auto n = in.u32();
  if (!in.done()) return std::nullopt;
  return n;
}

}  // namespace relayscope::survey::wire
