// See command.hpp. Verbs from a table; MAIL/RCPT split into path and ESMTP
// parameters (RFC 5321 4.1.2: Mail-parameters = esmtp-param *(SP esmtp-param)).
#include "smtp/command.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace relayscope::smtp {

namespace {

struct VerbName {
  const char* name;
  Verb verb;
};
constexpr std::array<VerbName, 14> verbs{{{"EHLO", Verb::ehlo},
                                          {"HELO", Verb::helo},
                                          {"MAIL", Verb::mail},
                                          {"RCPT", Verb::rcpt},
                                          {"DATA", Verb::data},
                                          {"RSET", Verb::rset},
                                          {"NOOP", Verb::noop},
                                          {"QUIT", Verb::quit},
                                          {"VRFY", Verb::vrfy},
                                          {"EXPN", Verb::expn},
                                          {"HELP", Verb::help},
                                          {"STARTTLS", Verb::starttls},
                                          {"AUTH", Verb::auth},
                                          {"BDAT", Verb::bdat}}};

std::string upper(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}

bool istarts(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && upper(s.substr(0, prefix.size())) == prefix;
}

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool is_keyword(std::string_view k) {
  if (k.empty() || !std::isalnum(static_cast<unsigned char>(k[0]))) return false;
  return std::all_of(k.begin(), k.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

// esmtp-value = 1*(%d33-60 / %d62-126)
bool is_value(std::string_view v) {
  if (v.empty()) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 33 && u <= 126 && u != '=';
  });
}

Error syntax(const char* usage) { return make_error(std::string("501 5.5.4 Syntax: ") + usage); }

// The path ends at the first '>' outside a quoted string; a bare address
// (lenient) ends at the first space.
std::size_t path_end(std::string_view s) {
  if (s.empty()) return 0;
  if (s.front() != '<') return std::min(s.find(' '), s.size());
  bool quoted = false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == '"') quoted = !quoted;
    if (!quoted && s[i] == '>') return i + 1;
  }
  return s.size();
}

}  // namespace

Expected<Command> parse_command(std::string_view line, bool lenient_paths) {
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0 || u >= 0x80 || c == '\r' || c == '\n') {
      return make_error("500 5.5.2 Command contains invalid characters");
    }
  }
  Command cmd;
  auto space = line.find(' ');
  cmd.verb_text = upper(line.substr(0, space));
  for (const auto& v : verbs) {
    if (cmd.verb_text == v.name) cmd.verb = v.verb;
  }
  if (cmd.verb == Verb::unknown) return make_error("500 5.5.2 Command unrecognized");
  std::string_view rest = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  cmd.argument = std::string(rest);

  switch (cmd.verb) {
    case Verb::ehlo:
    case Verb::helo: {
      auto name = rest;
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      if (name.empty()) return syntax(cmd.verb == Verb::ehlo ? "EHLO hostname" : "HELO hostname");
      cmd.argument = std::string(name);
      return cmd;
    }
    case Verb::mail:
    case Verb::rcpt: {
      const char* prefix = cmd.verb == Verb::mail ? "FROM:" : "TO:";
      const char* usage = cmd.verb == Verb::mail ? "MAIL FROM:<address>" : "RCPT TO:<address>";
      if (!istarts(rest, prefix)) return syntax(usage);
      rest.remove_prefix(std::char_traits<char>::length(prefix));
      // Many clients send "MAIL FROM: <a@b>": one space is tolerated.
      if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      auto end = path_end(rest);
      auto path = parse_path(rest.substr(0, end),
                             cmd.verb == Verb::mail ? PathKind::reverse : PathKind::forward,
                             lenient_paths);
      if (!path) return make_error("501 5.1.7 Bad address: " + path.error().message);
      cmd.path = std::move(*path);
      auto params = rest.substr(end);
      while (!params.empty()) {
        if (params.front() != ' ') return syntax(usage);
        params.remove_prefix(1);
        if (params.empty()) break;  // trailing space: tolerated
        auto sp = params.find(' ');
        auto param = params.substr(0, sp);
        params = sp == std::string_view::npos ? std::string_view() : params.substr(sp);
        auto eq = param.find('=');
        auto key = param.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
        if (!is_keyword(key) || (eq != std::string_view::npos && !is_value(value))) {
          return make_error("501 5.5.4 Bad parameter: " + std::string(param.substr(0, 64)));
        }
        cmd.params.emplace_back(upper(key), std::string(value));
      }
      return cmd;
    }
    case Verb::data:
    case Verb::rset:
    case Verb::quit:
    case Verb::starttls:
      if (!rest.empty()) return make_error("501 5.5.4 Syntax: " + cmd.verb_text + " takes no argument");
      return cmd;
    case Verb::noop:
    case Verb::help:
    case Verb::vrfy:
    case Verb::expn:
    case Verb::auth:
    case Verb::bdat:
    case Verb::unknown:
      return cmd;
  }
  return cmd;
}

}  // namespace relayscope::smtp
