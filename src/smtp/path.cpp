// See path.hpp. A small recursive-descent parser over the RFC 5321 grammar:
//   Path = "<" [ A-d-l ":" ] Mailbox ">"      A-d-l = At-domain *( "," At-domain )
//   Mailbox = Local-part "@" ( Domain / address-literal )
//   Local-part = Dot-string / Quoted-string
#include "smtp/path.hpp"

#include <cstring>

#include "common/ascii.hpp"
#include "smtp/ip_literal.hpp"

namespace relayscope::smtp {

namespace {

using ascii::is_alpha;
using ascii::is_digit;
using ascii::is_let_dig;

// atext (RFC 5322 3.2.3), US-ASCII only.
bool is_atext(char c) {
  return is_let_dig(c) || (c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr);
}

// qtextSMTP = %d32-33 / %d35-91 / %d93-126
bool is_qtext(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 32 && u <= 33) || (u >= 35 && u <= 91) || (u >= 93 && u <= 126);
}

// dcontent = %d33-90 / %d94-126
bool is_dcontent(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 33 && u <= 90) || (u >= 94 && u <= 126);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

class Parser {
 public:
  Parser(std::string_view s, const PathLimits& l, bool lenient)
      : s_(s), limits_(l), lenient_(lenient) {}

  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  bool eat(char c) {
    if (at_end() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  const std::string& error() const { return error_; }

  bool fail(const char* what) {
    if (error_.empty()) error_ = what;
    return false;
  }

  // Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
  // Labels are also held to DNS's 63 octets. Lenient: one trailing dot.
  bool domain(std::string& out) {
    std::size_t start = i_;
    for (;;) {
      if (!is_let_dig(peek())) return fail("bad domain");
      std::size_t label = i_;
      while (!at_end() && (is_let_dig(s_[i_]) || s_[i_] == '-')) ++i_;
      if (s_[i_ - 1] == '-') return fail("a domain label ends with '-'");
      if (i_ - label > 63) return fail("a domain label is longer than 63 octets");
      if (peek() != '.') break;
      ++i_;
      if (lenient_ && !is_let_dig(peek())) break;  // "example.test."
    }
    out.assign(s_.substr(start, i_ - start));
    if (out.size() > limits_.max_domain) return fail("domain too long");
    return true;
  }

  // address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
  //                         General-address-literal ) "]"
  bool address_literal(Host& host) {
    if (!eat('[')) return fail("bad address literal");
    auto close = s_.find(']', i_);
    if (close == std::string_view::npos) return fail("address literal lacks its ']'");
    std::string_view inner = s_.substr(i_, close - i_);
    i_ = close + 1;
    if (inner.size() + 2 > limits_.max_domain) return fail("address literal too long");
    if (parse_ipv4(inner)) {
      host.kind = Host::Kind::ipv4_literal;
      host.text.assign(inner);
      return true;
    }
    auto colon = inner.find(':');
    if (colon == std::string_view::npos) return fail("bad address literal");
    std::string_view tag = inner.substr(0, colon);
    std::string_view content = inner.substr(colon + 1);
    if (iequals(tag, "IPv6")) {
      if (!parse_ipv6(content)) return fail("bad IPv6 address literal");
      host.kind = Host::Kind::ipv6_literal;
      host.text.assign(content);
      return true;
    }
    // General-address-literal = Standardized-tag ":" 1*dcontent;
    // Standardized-tag = Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
    if (tag.empty() || !is_let_dig(tag.back())) return fail("bad address literal tag");
    for (char c : tag) {
      if (!is_let_dig(c) && c != '-') return fail("bad address literal tag");
    }
    if (content.empty()) return fail("empty address literal");
    for (char c : content) {
      if (!is_dcontent(c)) return fail("bad character in an address literal");
    }
    host.kind = Host::Kind::general_literal;
    host.text.assign(inner);
    return true;
  }

  bool host(Host& h) {
    if (peek() == '[') return address_literal(h);
    h.kind = Host::Kind::domain;
    return domain(h.text);
  }

  // Local-part = Dot-string / Quoted-string
  bool local_part(Mailbox& m) {
    std::size_t start = i_;
    if (peek() == '"') {
      ++i_;
      std::string value;
      for (;;) {
        if (at_end()) return fail("unterminated quoted local part");
        char c = s_[i_++];
        if (c == '"') break;
        if (c == '\\') {
          // quoted-pairSMTP = %d92 %d32-126
          if (at_end()) return fail("unterminated quoted local part");
          char q = s_[i_++];
          auto u = static_cast<unsigned char>(q);
          if (u < 32 || u > 126) return fail("bad character in a quoted local part");
          value += q;
        } else if (is_qtext(c)) {
          value += c;
        } else {
          return fail("bad character in a quoted local part");
        }
      }
      m.local_part = std::move(value);
      m.local_part_was_quoted = true;
    } else {
      // Dot-string = Atom *("."  Atom); Atom = 1*atext
      for (;;) {
        std::size_t atom = i_;
        while (!at_end() && is_atext(s_[i_])) ++i_;
        if (i_ == atom) return fail("bad local part");
        if (peek() != '.') break;
        ++i_;
      }
      m.local_part.assign(s_.substr(start, i_ - start));
      m.local_part_was_quoted = false;
    }
    if (i_ - start > limits_.max_local_part) return fail("local part too long");
    return true;
  }

  bool mailbox(Mailbox& m) {
    if (!local_part(m)) return false;
    if (at_end()) return fail("the address has no '@domain'");
    if (!eat('@')) return fail("bad character in the local part");
    return host(m.host);
  }

  // A-d-l = At-domain *( "," At-domain ) ":" ; At-domain = "@" Domain
  bool source_route(std::vector<std::string>& route) {
    for (;;) {
      if (!eat('@')) return fail("bad source route");
      std::string hop;
      if (lenient_ && peek() == '[') {
        // RFC 821 allowed literals as hops ("@[192.0.2.1]:"); lenient only.
        Host h;
        if (!address_literal(h)) return false;
        hop = h.wire();
      } else if (!domain(hop)) {
        return false;
      }
      route.push_back(std::move(hop));
      if (eat(':')) return true;
      if (!eat(',')) return fail("bad source route");
    }
  }

 private:
  std::string_view s_;
  const PathLimits& limits_;
  bool lenient_;
  std::size_t i_ = 0;
  std::string error_;
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
    case Kind::domain:
      return text;
    case Kind::ipv4_literal:
      return "[" + text + "]";
    case Kind::ipv6_literal:
      return "[IPv6:" + text + "]";
    case Kind::general_literal:
      return "[" + text + "]";
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
  std::string local = is_dot_string(local_part) ? local_part : quote(local_part);
  if (host.kind == Host::Kind::domain && host.text.empty()) return local;  // <Postmaster>
  return local + "@" + host.wire();
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
  if (text.size() > limits.max_path) return make_error("path too long");
  Path p;
  bool bracketed = !text.empty() && text.front() == '<';
  if (!bracketed && !lenient) return make_error("the path must be enclosed in <>");
  std::string_view inner = text;
  if (bracketed) {
    if (text.size() < 2 || text.back() != '>') return make_error("the path lacks its closing '>'");
    inner = text.substr(1, text.size() - 2);
  }
  if (inner.empty()) {
    if (kind == PathKind::forward) return make_error("the null path is not a recipient");
    if (!bracketed) return make_error("empty path");
    p.null = true;
    return p;
  }
  if (kind == PathKind::forward && bracketed && iequals(inner, "postmaster")) {
    p.mailbox.local_part.assign(inner);
    return p;
  }
  Parser parser(inner, limits, lenient);
  if (parser.peek() == '@' && !parser.source_route(p.source_route)) {
    return make_error(parser.error());
  }
  if (!parser.mailbox(p.mailbox)) return make_error(parser.error());
  if (!parser.at_end()) return make_error("unexpected characters after the address");
  return p;
}

Expected<Mailbox> parse_mailbox(std::string_view text, PathLimits limits) {
  Parser parser(text, limits, false);
  Mailbox m;
  if (!parser.mailbox(m) || !parser.at_end()) {
    return make_error("not an address: '" + std::string(text.substr(0, 100)) + "'");
  }
  return m;
}

Expected<Host> parse_host(std::string_view text, bool lenient, PathLimits limits) {
  Parser parser(text, limits, lenient);
  Host h;
  if (!parser.host(h)) return make_error(parser.error());
  if (!parser.at_end()) return make_error("unexpected characters after the host");
  return h;
}

}  // namespace relayscope::smtp
