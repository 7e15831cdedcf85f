// See command.hpp. Verbs from a table; MAIL/RCPT split into path and ESMTP
// parameters (RFC 5321 4.1.2: Mail-parameters = esmtp-param *(SP esmtp-param)).
// Limits: a command line may hold at most max_command_line bytes.
#include "smtp/command.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "common/ascii.hpp"
#include "smtp/printable.hpp"

namespace relayscope::smtp {

namespace {

// RFC 5321 4.5.3.1.4 says 512 octets; SMTP extensions (RFC 1869) allow more
// for MAIL and RCPT parameters. Longer lines are refused outright.
constexpr std::size_t max_command_line = 2048;

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

using ascii::upper;  // one ASCII case helper (common/ascii.hpp)

bool istarts(std::string_view s, std::string_view prefix) {
  return ascii::istarts_with(s, prefix);
}

// esmtp-value = 1*(%d33-60 / %d62-126)
bool is_value(std::string_view v) {
  if (v.empty()) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 33 && u <= 126 && u != '=';
  });
}

// A command or the reply that refuses it: errors stay typed up to the session.
struct Parsed {
  Parsed(Command c) : command(std::move(c)) {}  // NOLINT: implicit by design
  Parsed(Reply r) : refusal(std::move(r)) {}    // NOLINT
  std::optional<Command> command;
  Reply refusal;
};

Reply syntax(std::string_view usage) {
  return make_reply(501, "5.5.4 Syntax: " + std::string(usage));
}

// Client text quoted in an error reply: printable, and short.
std::string excerpt(std::string_view s) {
  return printable(s, 64);
}

// The path ends at the first '>' outside a quoted string and outside an
// address literal (a general literal may hold '>': "[x:a>b]"); a bare address
// (lenient) ends at the first space.
std::size_t path_end(std::string_view s) {
  if (s.empty()) return 0;
  if (s.front() != '<') return std::min(s.find(' '), s.size());
  bool quoted = false;
  bool literal = false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (literal) {
      if (c == ']') literal = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '[') {
      literal = true;
    } else if (c == '>') {
      return i + 1;
    }
  }
  return s.size();
}

Parsed parse_mail_rcpt(Command cmd, std::string_view rest, bool lenient_paths) {
  bool mail = cmd.verb == Verb::mail;
  std::string_view prefix = mail ? "FROM:" : "TO:";
  std::string_view usage = mail ? "MAIL FROM:<address>" : "RCPT TO:<address>";
  if (!istarts(rest, prefix)) return syntax(usage);
  rest.remove_prefix(prefix.size());
  // Many clients send "MAIL FROM: <a@b>": one space is tolerated, no more.
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest.front() == ' ') return syntax(usage);
  auto end = path_end(rest);
  auto path =
      parse_path(rest.substr(0, end), mail ? PathKind::reverse : PathKind::forward, lenient_paths);
  if (!path) {
    // RFC 3463: X.1.7 bad sender's address syntax, X.1.3 bad destination's.
    return make_reply(501, std::string(mail ? "5.1.7" : "5.1.3") +
                               " Bad address syntax: " + path.error().message);
  }
  cmd.path = std::move(*path);
  auto params = rest.substr(end);
  while (!params.empty()) {
    if (params.front() != ' ') return syntax(usage);
    params.remove_prefix(1);
    if (params.empty()) break;  // one trailing space: tolerated
    auto sp = params.find(' ');
    auto param = params.substr(0, sp);
    params = sp == std::string_view::npos ? std::string_view() : params.substr(sp);
    auto eq = param.find('=');
    auto key = param.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (!is_esmtp_keyword(key) || (eq != std::string_view::npos && !is_value(value))) {
      return make_reply(501, "5.5.4 Bad parameter: " + excerpt(param));
    }
    cmd.params.emplace_back(upper(key), std::string(value));
  }
  return cmd;
}

Parsed parse(std::string_view line, bool lenient_paths);

}  // namespace

CommandOrReply parse_command_or_reply(std::string_view line, bool lenient_paths) {
  auto p = parse(line, lenient_paths);
  if (p.command) return {std::move(p.command), {}};
  return {std::nullopt, std::move(p.refusal)};
}

Expected<Command> parse_command(std::string_view line, bool lenient_paths) {
  auto p = parse(line, lenient_paths);
  if (p.command) return std::move(*p.command);
  return make_error(std::to_string(p.refusal.code) + " " + p.refusal.text());
}

namespace {

Parsed parse(std::string_view line, bool lenient_paths) {
  if (line.size() > max_command_line) return make_reply(500, "5.5.2 Command line too long");
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0 || u >= 0x80 || c == '\r' || c == '\n') {
      return make_reply(500, "5.5.2 Command contains invalid characters");
    }
  }
  Command cmd;
  auto space = line.find(' ');
  cmd.verb_text = upper(line.substr(0, space));
  for (const auto& v : verbs) {
    if (cmd.verb_text == v.name) cmd.verb = v.verb;
  }
  if (cmd.verb == Verb::unknown) return make_reply(500, "5.5.2 Command unrecognized");
  std::string_view rest =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  // Trailing spaces carry no meaning in any command.
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  cmd.argument = std::string(rest);

  switch (cmd.verb) {
    case Verb::ehlo:
      if (rest.empty()) return syntax("EHLO hostname");
      return cmd;
    case Verb::helo:
      if (rest.empty()) return syntax("HELO hostname");
      return cmd;
    case Verb::mail:
    case Verb::rcpt:
      return parse_mail_rcpt(std::move(cmd), rest, lenient_paths);
    case Verb::data:
    case Verb::rset:
    case Verb::quit:
    case Verb::starttls:
      if (!rest.empty()) return syntax(cmd.verb_text + " takes no argument");
      return cmd;
    case Verb::vrfy:
      if (rest.empty()) return syntax("VRFY <address>");
      return cmd;
    case Verb::expn:
      if (rest.empty()) return syntax("EXPN <list>");
      return cmd;
    case Verb::auth:
      if (rest.empty()) return syntax("AUTH mechanism [initial-response]");
      return cmd;
    case Verb::bdat:
      if (rest.empty()) return syntax("BDAT size [LAST]");
      return cmd;
    case Verb::noop:
    case Verb::help:
    case Verb::unknown:
      return cmd;
  }
  return cmd;
}

}  // namespace

bool is_esmtp_keyword(std::string_view k) {
  if (k.empty() || !ascii::is_let_dig(k[0])) return false;
  return std::all_of(k.begin(), k.end(), [](char c) { return ascii::is_let_dig(c) || c == '-'; });
}

}  // namespace relayscope::smtp
