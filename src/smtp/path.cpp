// See path.hpp. A small recursive-descent parser over the RFC 5321 grammar:
//   Path = "<" [ A-d-l ":" ] Mailbox ">"      A-d-l = At-domain *( "," At-domain )
//   Mailbox = Local-part "@" ( Domain / address-literal )
//   Local-part = Dot-string / Quoted-string
#include "smtp/path.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

namespace relayscope::smtp {

namespace {

bool is_atext(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

bool is_let_dig(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// qtextSMTP: %d32-33 / %d35-91 / %d93-126
bool is_qtext(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 32 && u <= 33) || (u >= 35 && u <= 91) || (u >= 93 && u <= 126);
}

class Parser {
 public:
  Parser(std::string_view s, const PathLimits& l) : s_(s), limits_(l) {}

  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  bool eat(char c) {
    if (peek() != c || at_end()) return false;
    ++i_;
    return true;
  }
  std::size_t pos() const { return i_; }
  void set_pos(std::size_t p) { i_ = p; }

  // sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
  bool domain(std::string& out) {
    std::size_t start = i_;
    for (;;) {
      if (!is_let_dig(peek())) return false;
      std::size_t label = i_;
      while (!at_end() && (is_let_dig(s_[i_]) || s_[i_] == '-')) ++i_;
      if (s_[i_ - 1] == '-') return false;  // Ldh-str ends in Let-dig
      if (i_ - label > 63) return false;
      if (peek() != '.') break;
      ++i_;
    }
    out.assign(s_.substr(start, i_ - start));
    return out.size() <= limits_.max_domain;
  }

  bool address_literal(Host& host) {
    if (!eat('[')) return false;
    auto close = s_.find(']', i_);
    if (close == std::string_view::npos) return false;
    std::string_view inner = s_.substr(i_, close - i_);
    i_ = close + 1;
    std::string text(inner);
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1 && strict_ipv4(inner)) {
      host.kind = Host::Kind::ipv4_literal;
      host.text = text;
      return true;
    }
    if (inner.size() > 5 && strncasecmp(text.c_str(), "IPv6:", 5) == 0) {
      std::string v6text = text.substr(5);
      in6_addr v6{};
      if (inet_pton(AF_INET6, v6text.c_str(), &v6) != 1) return false;
      host.kind = Host::Kind::ipv6_literal;
      host.text = v6text;
      return true;
    }
    // General-address-literal = Standardized-tag ":" 1*dcontent
    auto colon = inner.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 >= inner.size()) return false;
    for (std::size_t k = 0; k < colon; ++k) {
      if (!is_let_dig(inner[k]) && inner[k] != '-') return false;
    }
    for (std::size_t k = colon + 1; k < inner.size(); ++k) {
      auto u = static_cast<unsigned char>(inner[k]);
      if (u < 33 || u > 126 || u == '[' || u == ']' || u == '\\') return false;
    }
    host.kind = Host::Kind::general_literal;
    host.text = text;
    return true;
  }

  static bool strict_ipv4(std::string_view s) {
    // inet_pton accepts only dotted quads; RFC 5321 also forbids nothing
    // more, but leading zeros are ambiguous: refuse them.
    std::size_t start = 0;
    for (std::size_t k = 0; k <= s.size(); ++k) {
      if (k == s.size() || s[k] == '.') {
        if (k - start > 1 && s[start] == '0') return false;
        start = k + 1;
      }
    }
    return true;
  }

  bool host(Host& h) {
    if (peek() == '[') return address_literal(h);
    h.kind = Host::Kind::domain;
    return domain(h.text);
  }

  bool local_part(Mailbox& m) {
    if (peek() == '"') {
      ++i_;
      std::string value;
      for (;;) {
        if (at_end()) return false;
        char c = s_[i_++];
        if (c == '"') break;
        if (c == '\\') {
          if (at_end()) return false;
          char q = s_[i_++];
          auto u = static_cast<unsigned char>(q);
          if (u < 32 || u > 126) return false;  // quoted-pairSMTP = %d92 %d32-126
          value += q;
        } else if (is_qtext(c)) {
          value += c;
        } else {
          return false;
        }
      }
      m.local_part = std::move(value);
      m.local_part_was_quoted = true;
    } else {
      std::size_t start = i_;
      for (;;) {
        std::size_t atom = i_;
        while (!at_end() && is_atext(s_[i_])) ++i_;
        if (i_ == atom) return false;
        if (peek() != '.') break;
        ++i_;
      }
      m.local_part.assign(s_.substr(start, i_ - start));
    }
    return m.local_part.size() <= limits_.max_local_part;
  }

  bool mailbox(Mailbox& m) { return local_part(m) && eat('@') && host(m.host); }

  // A-d-l = At-domain *( "," At-domain ) ; At-domain = "@" Domain
  bool source_route(std::vector<std::string>& route) {
    for (;;) {
      if (!eat('@')) return false;
      std::string d;
      // Literals appear in real source routes ("@[1.2.3.4]:"); accept them.
      if (peek() == '[') {
        Host h;
        if (!address_literal(h)) return false;
        d = h.wire();
      } else if (!domain(d)) {
        return false;
      }
      route.push_back(std::move(d));
      if (eat(':')) return true;
      if (!eat(',')) return false;
    }
  }

 private:
  std::string_view s_;
  const PathLimits& limits_;
  std::size_t i_ = 0;
};

std::string quote(const std::string& local) {
  std::string out = "\"";
  for (char c : local) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::string Host::wire() const {
  switch (kind) {
    case Kind::domain: return text;
    case Kind::ipv4_literal: return "[" + text + "]";
    case Kind::ipv6_literal: return "[IPv6:" + text + "]";
    case Kind::general_literal: return "[" + text + "]";
  }
  return text;
}

bool is_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = '\0';
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

std::string Mailbox::wire() const {
  return (is_dot_string(local_part) ? local_part : quote(local_part)) + "@" + host.wire();
}

std::string Path::wire() const {
  if (null) return "<>";
  std::string out = "<";
  for (std::size_t i = 0; i < source_route.size(); ++i) {
    out += (i ? ",@" : "@") + source_route[i];
  }
  if (!source_route.empty()) out += ':';
  out += mailbox.wire();
  out += '>';
  return out;
}

Expected<Path> parse_path(std::string_view text, PathKind kind, bool lenient, PathLimits limits) {
  if (text.size() > limits.max_path + 2) return make_error("path too long");
  Path p;
  bool bracketed = !text.empty() && text.front() == '<';
  if (!bracketed && !lenient) return make_error("path must be enclosed in <>");
  std::string_view inner = text;
  if (bracketed) {
    if (text.size() < 2 || text.back() != '>') return make_error("path lacks its closing '>'");
    inner = text.substr(1, text.size() - 2);
  }
  if (inner.empty()) {
    if (kind == PathKind::forward) return make_error("the null path is not a recipient");
    if (!bracketed) return make_error("empty path");
    p.null = true;
    return p;
  }
  if (inner.size() > limits.max_path) return make_error("path too long");
  Parser parser(inner, limits);
  if (parser.peek() == '@' && !parser.source_route(p.source_route)) {
    return make_error("bad source route");
  }
  if (!parser.mailbox(p.mailbox)) return make_error("bad address syntax");
  if (!parser.at_end()) return make_error("unexpected characters after the address");
  return p;
}

Expected<Mailbox> parse_mailbox(std::string_view text, PathLimits limits) {
  Parser parser(text, limits);
  Mailbox m;
  if (!parser.mailbox(m) || !parser.at_end()) {
    return make_error("not an address: '" + std::string(text.substr(0, 100)) + "'");
  }
  return m;
}

}  // namespace relayscope::smtp
