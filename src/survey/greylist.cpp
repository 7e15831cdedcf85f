// See greylist.hpp.
#include "survey/greylist.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "survey/variants.hpp"

namespace relayscope::survey {

namespace {

// The received line that carried `code`: the last one that begins with it.
std::string reply_line(const store::Probe& p) {
  if (p.code <= 0) return {};
  const auto code = std::to_string(p.code);
  for (auto it = p.transcript.rbegin(); it != p.transcript.rend(); ++it) {
    if (it->direction == '<' && it->text.compare(0, code.size(), code) == 0) return it->text;
  }
  return {};
}

// The retry's variants, but those the first try settled: in the first
// try's order (every trick, by name), its final answers kept.
std::vector<store::VariantResult> merge_variants(std::vector<store::VariantResult> first,
                                                 std::vector<store::VariantResult> retry) {
  if (first.empty() || retry.empty()) return retry;
  std::vector<store::VariantResult> out;
  out.reserve(first.size());
  out.push_back(std::move(retry.front()));  // the IMC transaction: the retry's
  for (std::size_t i = 1; i < first.size(); ++i) {
    auto again = std::find_if(retry.begin() + 1, retry.end(),
                              [&](const auto& v) { return v.name == first[i].name; });
    const bool kept = final_answer(first[i]) || again == retry.end();
    out.push_back(std::move(kept ? first[i] : *again));
  }
  return out;
}

}  // namespace

bool final_answer(const store::VariantResult& v) {
  return v.outcome != store::variant_not_tried && v.code > 0 && (v.code < 400 || v.code >= 500);
}

bool greylist_answer(const store::Probe& p) {
  return p.outcome == "TO" && p.code >= 400 && p.code < 500;
}

store::Probe merge_greylist_retry(store::Probe first, store::Probe retry,
                                  std::int64_t retry_offset_us) {
  store::Probe out = std::move(retry);
  out.greylisted = true;
  out.first_code = first.code;
  out.first_reply = reply_line(first);
  out.started_at = first.started_at;
  out.token = first.token;
  // The retry's clock starts at its own connection: one transcript counts
  // from the first try's start.
  const auto offset = std::max(retry_offset_us, first.duration_us);
  std::vector<store::TranscriptLine> lines = std::move(first.transcript);
  lines.reserve(lines.size() + out.transcript.size() + 1);
  lines.push_back({offset, '*',
                   "greylisted (" + std::to_string(first.code) +
                       " at RCPT TO): probed again after --greylist-retry"});
  for (auto& l : out.transcript) {
    l.t_us += offset;
    lines.push_back(std::move(l));
  }
  out.transcript = std::move(lines);
  out.variants = merge_variants(std::move(first.variants), std::move(out.variants));
  out.duration_us = first.duration_us + out.duration_us;
  return out;
}

bool GreylistRetries::wants_retry(const ProbeTarget& target, const store::Probe& first) const {
  return enabled() && target.token.empty() && greylist_answer(first);
}

void GreylistRetries::defer(ProbeTarget target, store::Probe first, Clock::time_point now) {
  target.token = first.token;
  target.settled_variants.clear();
  for (std::size_t i = 0; i < trick_count(); ++i) {
    auto v = std::find_if(first.variants.begin(), first.variants.end(),
                          [&](const auto& r) { return r.name == trick_name(i); });
    if (v != first.variants.end() && final_answer(*v)) {
      target.settled_variants.push_back(static_cast<std::uint8_t>(i));
    }
  }
  const auto due = now + delay_;
  const auto started = now - std::chrono::microseconds(first.duration_us);
  queue_.emplace(due, Entry{std::move(target), std::move(first), due, started});
}

void GreylistRetries::put_back(Entry entry, Clock::time_point due) {
  entry.due = due;
  queue_.emplace(due, std::move(entry));
}

std::optional<GreylistRetries::Entry> GreylistRetries::take_due(Clock::time_point now) {
  if (queue_.empty() || queue_.begin()->first > now) return std::nullopt;
  auto node = queue_.extract(queue_.begin());
  return std::move(node.mapped());
}

std::optional<GreylistRetries::Clock::time_point> GreylistRetries::next_due() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first;
}

std::optional<GreylistRetries::Clock::time_point> GreylistRetries::due_of(std::size_t k) const {
  if (k >= queue_.size()) return std::nullopt;
  return std::next(queue_.begin(), static_cast<std::ptrdiff_t>(k))->first;
}

}  // namespace relayscope::survey
