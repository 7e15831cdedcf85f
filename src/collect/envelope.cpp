#include "collect/envelope.hpp"

#include <cctype>

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
  for (const auto& r : rcpts) {
    if (auto t = token_in_local_part(r, recipient_local_part); t.size() == token_length) {
      return {"delivery", t};
    }
    if (auto t = token_in_local_part(r, sender_local_part); t.size() == token_length) {
      return {"bounce", t};
    }
    auto at = r.rfind('@');
    std::string_view local = std::string_view(r).substr(0, at);
    if (local == sender_local_part) to_sender = true;
  }
  // The envelope lost its tag: look in the message. Mail from the null
  // sender, or to our sender address, is a return; the rest a delivery.
  auto found = tokens_in_message(message);
  if (found.empty()) return {"unmatched", ""};
  return {(mail_from.empty() || to_sender) ? "bounce" : "delivery", found.front()};
}

}  // namespace relayscope::collect
