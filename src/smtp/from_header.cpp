// See from_header.hpp. A small scanner over the unfolded field body: it keeps
// track of quoted strings, nested comments, angle brackets and groups, and
// splits the mailbox list at top-level commas.
#include "smtp/from_header.hpp"

#include <cctype>

namespace relayscope::smtp {

namespace {

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (lower(line[i]) != lower(name[i])) return false;
  }
  return true;
}

// The header section split into unfolded fields.
Expected<std::vector<std::string>> fields_of(std::string_view message, std::size_t max_header) {
  std::vector<std::string> fields;
  std::size_t pos = 0;
  while (pos < message.size()) {
    auto nl = message.find('\n', pos);
    auto end = nl == std::string_view::npos ? message.size() : nl;
    auto line = message.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl == std::string_view::npos ? message.size() : nl + 1;
    if (pos > max_header) return make_error("the header section is too long");
    if (line.empty()) break;  // the end of the header section
    if (line.front() == ' ' || line.front() == '\t') {
      if (fields.empty()) return make_error("the header starts with a continuation line");
      fields.back() += line;  // unfolding: CRLF removed, the white space stays
    } else {
      fields.emplace_back(line);
    }
  }
  return fields;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool atext(char c) {
  auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (c == '.' && prev == '.') return false;
    if (c != '.' && !atext(c)) return false;
    prev = c;
  }
  return true;
}

// An addr-spec with comments already removed: "local@domain".
Expected<std::string> addr_spec(std::string_view text) {
  auto s = trim(text);
  for (unsigned char c : s) {  // SMTPUTF8 addresses are not supported: fail closed
    if (c < 0x20 || c >= 0x7f) return make_error("From: address with a control or non-ASCII byte");
  }
  // Strip an obsolete route "@a,@b:" (RFC 5322 4.4) inside angle brackets.
  if (!s.empty() && s.front() == '@') {
    auto colon = s.find(':');
    if (colon == std::string::npos) return make_error("bad route in From:");
    s = trim(std::string_view(s).substr(colon + 1));
  }
  // The '@' that separates is the last one outside a quoted string.
  std::size_t at = std::string::npos;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == '"') quoted = !quoted;
    if (!quoted && s[i] == '@') at = i;
  }
  if (quoted || at == std::string::npos) return make_error("From: address without '@'");
  auto local = trim(std::string_view(s).substr(0, at));
  auto domain = trim(std::string_view(s).substr(at + 1));
  if (local.empty() || domain.empty()) return make_error("From: address with an empty part");
  if (local.front() == '"') {
    if (local.size() < 2 || local.back() != '"') return make_error("bad quoted From: address");
    std::string inner;
    for (std::size_t i = 1; i + 1 < local.size(); ++i) {
      if (local[i] == '\\' && i + 2 < local.size()) ++i;
      inner += local[i];
    }
    if (dot_atom(inner)) local = inner;  // "alice" is alice
  } else if (!dot_atom(local)) {
    return make_error("bad From: local part");
  }
  bool literal = domain.front() == '[' && domain.back() == ']';
  if (!literal && !dot_atom(domain)) return make_error("bad From: domain");
  for (auto& c : domain) c = lower(c);
  return local + "@" + domain;
}

// Splits the field body into addresses. Comments are dropped; display names
// are dropped when an angle address follows them.
Expected<std::vector<std::string>> parse_list(std::string_view body) {
  std::vector<std::string> out;
  std::string current;     // the current element, comments removed
  std::string angle;       // the contents of <...> of the current element
  bool has_angle = false;  // the current element had <...>
  bool in_angle = false, quoted = false;
  int comment = 0;
  bool in_group = false;
  auto finish = [&]() -> Status {
    auto text = trim(current);
    if (has_angle) {
      auto a = addr_spec(angle);  // "<>" is an error: it is no author
      if (!a) return a.error();
      out.push_back(*a);
    } else if (!text.empty()) {
      auto a = addr_spec(text);
      if (!a) return a.error();
      out.push_back(*a);
    }
    if (out.size() > max_from_addresses) return make_error("too many From: addresses");
    current.clear();
    angle.clear();
    has_angle = false;
    return Ok{};
  };
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (comment > 0) {
      if (c == '\\')
        ++i;
      else if (c == '(')
        ++comment;
      else if (c == ')')
        --comment;
      continue;
    }
    if (quoted) {
      std::string& into = in_angle ? angle : current;
      into += c;
      if (c == '\\' && i + 1 < body.size())
        into += body[++i];
      else if (c == '"')
        quoted = false;
      continue;
    }
    if (in_angle) {
      if (c == '>') {
        in_angle = false;
      } else if (c == '<') {
        return make_error("nested '<' in From:");
      } else if (c == '(') {
        comment = 1;
      } else {
        if (c == '"') quoted = true;
        angle += c;
      }
      continue;
    }
    switch (c) {
      case '(':
        comment = 1;
        break;
      case '"':
        quoted = true;
        current += c;
        break;
      case '<':
        if (has_angle) return make_error("two angle addresses in one From: mailbox");
        in_angle = true;
        has_angle = true;
        current.clear();  // what came before was the display name
        break;
      case '>':
        return make_error("'>' without '<' in From:");
      case ':':
        if (in_group) return make_error("nested group in From:");
        if (has_angle) return make_error("':' after an address in From:");
        in_group = true;  // the group's display name is dropped
        current.clear();
        break;
      case ';':
        if (!in_group) return make_error("';' outside a group in From:");
        if (auto s = finish(); !s) return s.error();
        in_group = false;
        break;
      case ',': {
        if (auto s = finish(); !s) return s.error();
        break;
      }
      default:
        if (has_angle && c != ' ' && c != '\t') {
          return make_error("text after an angle address in From:");
        }
        current += c;
    }
  }
  if (comment > 0 || quoted || in_angle) return make_error("unterminated From: field");
  if (in_group) return make_error("unterminated group in From:");
  if (auto s = finish(); !s) return s.error();
  if (out.empty()) return make_error("From: names no address");
  return out;
}

}  // namespace

Expected<std::vector<std::string>> from_header_addresses(std::string_view message,
                                                         std::size_t max_header) {
  auto fields = fields_of(message, max_header);
  if (!fields) return fields.error();
  const std::string* from = nullptr;
  for (const auto& f : *fields) {
    auto colon = f.find(':');
    if (colon == std::string::npos) continue;
    auto name = trim(std::string_view(f).substr(0, colon));
    if (name.size() == 4 && iequals_prefix(name, "from")) {
      if (from) return make_error("more than one From: field");
      from = &f;
    }
  }
  if (!from) return make_error("no From: field");
  return parse_list(std::string_view(*from).substr(from->find(':') + 1));
}

}  // namespace relayscope::smtp
