// See tricks.hpp. The decoding order follows sendmail's ruleset 3: strip the
// source route, take the quoted local part whole, then resolve the first of
// '@' (inside the local part), '%' and '!' that the local part holds.
#include "lab/tricks.hpp"

#include <algorithm>
#include <cctype>

#include "common/ascii.hpp"

namespace relayscope::lab {

namespace {

constexpr std::size_t max_raw = 512;

using ascii::lower;  // one ASCII case helper (common/ascii.hpp)

std::string normal_domain(std::string_view d) {
  auto s = lower(d);
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::isupper(c) != 0; });
}

}  // namespace

bool HostIdentity::is_self(std::string_view host) const {
  auto h = normal_domain(host);
  return !h.empty() &&
         (h == normal_domain(domain) || h == normal_domain(name) || h == lower(ip_literal));
}

std::string DecodedPath::mailbox() const {
  return domain.empty() ? local : local + "@" + domain;
}

std::optional<std::string> raw_path_of(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto rest = line.substr(colon + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty()) return std::nullopt;
  if (rest.front() == '<') {
    // The closing bracket outside any quotes.
    bool in_quotes = false;
    for (std::size_t i = 1; i < rest.size(); ++i) {
      char c = rest[i];
      if (c == '\\' && in_quotes) {
        ++i;
      } else if (c == '"') {
        in_quotes = !in_quotes;
      } else if (c == '>' && !in_quotes) {
        return std::string(rest.substr(1, i - 1));
      }
    }
    return std::nullopt;
  }
  return std::string(rest.substr(0, rest.find(' ')));
}

std::optional<DecodedPath> decode_path(std::string_view raw, const HostIdentity& self) {
  if (raw.size() >= 2 && raw.front() == '<' && raw.back() == '>')
    raw = raw.substr(1, raw.size() - 2);
  if (raw.size() > max_raw) return std::nullopt;
  DecodedPath p;
  p.raw = std::string(raw);
  if (raw.empty()) {
    p.null = true;
    return p;
  }
  std::string_view s = raw;
  // Source route: "@a,@b:rest".
  if (s.front() == '@') {
    auto colon = s.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    p.source_route = true;
    s = s.substr(colon + 1);
  }
  if (!s.empty() && s.back() == '@') {
    p.trailing_at = true;
    s.remove_suffix(1);
  }
  std::string local;
  std::string_view host;
  bool has_host = false;
  if (!s.empty() && s.front() == '"') {
    std::size_t i = 1;
    for (; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      local += s[i];
    }
    if (i >= s.size()) return std::nullopt;  // unterminated quote
    p.quoted = true;
    auto after = s.substr(i + 1);
    if (!after.empty()) {
      if (after.front() != '@') return std::nullopt;
      host = after.substr(1);
      has_host = true;
    }
  } else {
    auto at = s.rfind('@');
    if (at == std::string_view::npos) {
      local = std::string(s);
    } else {
      local = std::string(s.substr(0, at));
      host = s.substr(at + 1);
      has_host = true;
    }
  }
  if (local.empty() && !p.quoted) return std::nullopt;
  p.written_host = std::string(host);
  p.literal_host = !host.empty() && host.front() == '[';
  p.upper_case = has_upper(host);
  p.trailing_dot = !host.empty() && host.back() == '.';

  // Routing inside the local part only counts when the mail is for us (or
  // names no host at all); otherwise the written host is where it goes.
  if (!has_host || self.is_self(host)) {
    auto at = local.rfind('@');
    auto pct = local.rfind('%');
    auto bang = local.find('!');
    if (at != std::string::npos) {
      p.double_at = !p.quoted;
      p.domain = normal_domain(std::string_view(local).substr(at + 1));
      p.upper_case = p.upper_case || has_upper(std::string_view(local).substr(at + 1));
      local.resize(at);
    } else if (pct != std::string::npos) {
      p.percent = !p.quoted;
      p.domain = normal_domain(std::string_view(local).substr(pct + 1));
      local.resize(pct);
    } else if (bang != std::string::npos) {
      p.bang = !p.quoted;
      p.domain = normal_domain(std::string_view(local).substr(0, bang));
      local = local.substr(bang + 1);
    } else {
      p.domain = normal_domain(host);
    }
  } else {
    p.domain = normal_domain(host);
  }
  p.local = std::move(local);
  return p;
}

bool trick_relays(Behaviour b, const EnvelopeFacts& f, const HostIdentity& self) {
  const auto& r = f.recipient;
  const auto& s = f.sender;
  bool routed = r.percent || r.bang || r.double_at || (r.quoted && !r.domain.empty());
  bool here_or_none = r.written_host.empty() || self.is_self(r.written_host);
  switch (b) {
    case Behaviour::trick_percent_hack:
      return r.percent && !r.quoted && here_or_none;
    case Behaviour::trick_bang_path:
      return r.bang && here_or_none;
    case Behaviour::trick_quoted_local:
      return r.quoted && !r.domain.empty() && here_or_none;
    case Behaviour::trick_source_route:
      return r.source_route;
    case Behaviour::trick_address_literal:
      return r.literal_host && self.is_self(r.written_host) && routed;
    case Behaviour::trick_null_sender:
      return s.null;
    case Behaviour::trick_spoofed_local_sender:
      return !s.null && !s.domain.empty() && !s.literal_host && self.is_self(s.domain);
    case Behaviour::trick_upper_case_domain:
      return r.upper_case && !r.source_route && !routed;
    case Behaviour::trick_trailing_dot_domain:
      return r.trailing_dot && !routed;
    case Behaviour::trick_unqualified_sender:
      return !s.null && s.domain.empty() && s.written_host.empty();
    case Behaviour::trick_sender_localhost:
      return !s.null && s.domain == "localhost";
    case Behaviour::trick_sender_equals_recipient:
      return !s.null && lower(s.raw) == lower(r.raw);
    case Behaviour::trick_trailing_at:
      return r.trailing_at;
    case Behaviour::trick_double_at:
      return r.double_at && here_or_none;
    case Behaviour::trick_sender_at_literal:
      return !s.null && s.literal_host && self.is_self(s.written_host);
    case Behaviour::trick_after_failed_auth:
      return f.auth_failed;
    default:
      return false;
  }
}

}  // namespace relayscope::lab
