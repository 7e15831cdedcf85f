#include "collect/envelope.hpp"

#include <cctype>

#include "collect/bounce_parser.hpp"

namespace relayscope::collect {

namespace {

constexpr std::size_t token_length = 20;  // survey::new_token()

bool is_token_char(char c) {
  return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c));
}

// Tokens written in the message: after "X-Relayscope-Token:", "Token:" or in
// a Message-ID "<TOKEN@". Bounded: only the first megabyte is searched.
std::vector<std::string> tokens_in_message(std::string_view m) {
  m = m.substr(0, 1 << 20);
  std::vector<std::string> out;
  for (std::string_view key : {"X-Relayscope-Token: ", "Token: ", "Message-ID: <"}) {
    for (auto at = m.find(key); at != std::string_view::npos; at = m.find(key, at + 1)) {
      auto start = at + key.size();
      auto end = start;
      while (end < m.size() && is_token_char(m[end])) ++end;
      if (end - start == token_length) out.emplace_back(m.substr(start, 20));
    }
  }
  return out;
}

}  // namespace

std::string token_in_local_part(std::string_view address, std::string_view base) {
  auto at = address.rfind('@');
  auto local = address.substr(0, at);
  if (!local.empty() && local.front() == '"') local.remove_prefix(1);
  if (local.size() <= base.size() + 1 || local[base.size()] != '+') return {};
  for (std::size_t i = 0; i < base.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(local[i])) !=
        std::tolower(static_cast<unsigned char>(base[i]))) {
      return {};
    }
  }
  std::string token;
  for (char c : local.substr(base.size() + 1)) {
    if (!is_token_char(c)) break;
    token += c;
  }
  return token;
}

Verdict classify_envelope(const std::string& mail_from, const std::vector<std::string>& rcpts,
                          std::string_view message, const std::string& sender_local_part,
                          const std::string& recipient_local_part) {
  bool to_sender = false;
  std::string tagged_delivery;  // the token of "relay-test+TOKEN@": a relayed test message
  std::string tagged_return;    // the token of "probe+TOKEN@": mail returned to a probe
  for (const auto& r : rcpts) {
    if (auto t = token_in_local_part(r, recipient_local_part);
        t.size() == token_length && tagged_delivery.empty()) {
      tagged_delivery = t;
    }
    if (auto t = token_in_local_part(r, sender_local_part); t.size() == token_length) {
      tagged_return = t;
    }
    auto at = r.rfind('@');
    std::string_view local = std::string_view(r).substr(0, at);
    if (local == sender_local_part) to_sender = true;
  }
  // A tag names the probe; the message still says whether a return is a
  // failure or only a delay notice. Without a tag, look in the message. Mail from the null
  // sender, to our sender address, or shaped as a DSN is a return, and its
  // token is sought in the message it returns (decoded by GMime); the rest
  // is a delivery, whose token is in the survey's own lines (or in its
  // decoded body, when a relay re-encoded it).
  TokenSpec spec;
  spec.sender_local_part = sender_local_part;
  spec.recipient_local_part = recipient_local_part;
  spec.token_length = token_length;
  auto raw = tokens_in_message(message);
  auto bounce = parse_bounce(message, spec);
  // The recipient tag is trusted only for what is not a return: variants
  // whose sender is "relay-test+TOKEN@" (sender-equals-recipient) make a
  // host that refused to relay send its DSN there, and that is a bounce.
  bool shaped_as_return = bounce.is_dsn || bounce.returned_message || bounce.returned_headers_only;
  if (!tagged_delivery.empty() && !shaped_as_return) return {"delivery", tagged_delivery, {}, {}};
  if (tagged_return.empty()) tagged_return = tagged_delivery;
  Verdict v;
  if (!bounce.recipients.empty()) {
    v.dsn_action = bounce.recipients.front().action;
    v.dsn_status = bounce.recipients.front().status;
  }
  bool returned = mail_from.empty() || to_sender || bounce.is_dsn;
  const auto& first = returned ? bounce.tokens : raw;
  const auto& second = returned ? raw : bounce.tokens;
  v.token = !tagged_return.empty() ? tagged_return
            : !first.empty()       ? first.front()
                                   : (!second.empty() ? second.front() : "");
  returned = returned || !tagged_return.empty();
  v.kind = v.token.empty() ? "unmatched" : (returned ? "bounce" : "delivery");
  // A DSN that reports no failure ("delayed", "relayed"...) is a warning,
  // not a bounce (RFC 3464 2.3.3): the message may still be delivered.
  bool failed = bounce.recipients.empty();
  for (const auto& r : bounce.recipients) failed |= r.action == "failed";
  if (v.kind == "bounce" && bounce.is_dsn && !failed) v.kind = "warning";
  return v;
}

}  // namespace relayscope::collect
