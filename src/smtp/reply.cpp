// See reply.hpp. Reply-line = Reply-code [ SP textstring ] CRLF, or
// Reply-code "-" [ textstring ] CRLF for all but the last line (RFC 5321
// 4.2); every line of one reply carries the same code.
#include "smtp/reply.hpp"

#include "common/ascii.hpp"
#include "smtp/printable.hpp"

namespace relayscope::smtp {

namespace {

using ascii::is_digit;

std::string excerpt(std::string_view line) {
  return printable(line, 80);
}

}  // namespace

std::string EnhancedStatus::to_string() const {
  return std::to_string(klass) + "." + std::to_string(subject) + "." + std::to_string(detail);
}

// status-code = class "." subject "." detail; class = "2"/"4"/"5";
// subject = 1*3digit; detail = 1*3digit (RFC 3463 2). It must be followed by
// a space or end the text: "5.7.1x" is not one.
std::optional<EnhancedStatus> parse_enhanced_status(std::string_view t) {
  EnhancedStatus s;
  std::size_t i = 0;
  auto number = [&](std::size_t max_digits, int& out) {
    std::size_t start = i;
    int v = 0;
    while (i < t.size() && is_digit(t[i]) && i - start < max_digits) {
      v = v * 10 + (t[i] - '0');
      ++i;
    }
    out = v;
    return i > start;
  };
  if (!number(1, s.klass) || (s.klass != 2 && s.klass != 4 && s.klass != 5)) return std::nullopt;
  if (i >= t.size() || t[i++] != '.') return std::nullopt;
  if (!number(3, s.subject)) return std::nullopt;
  if (i >= t.size() || t[i++] != '.') return std::nullopt;
  if (!number(3, s.detail)) return std::nullopt;
  if (i < t.size() && t[i] != ' ') return std::nullopt;
  return s;
}

Reply make_reply(int code, std::string_view text) {
  Reply r;
  r.code = code;
  r.status = parse_enhanced_status(text);
  while (true) {
    auto nl = text.find('\n');
    r.lines.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return r;
}

std::string Reply::text() const {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += ' ';
    out += l;
  }
  return out;
}

std::string Reply::wire() const {
  auto c = std::to_string(code);
  if (lines.empty()) return c + "\r\n";
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += c;
    out += i + 1 < lines.size() ? '-' : ' ';
    // A CR or LF inside a line would end it early and let text pose as a
    // reply of its own: never put one on the wire.
    for (char ch : lines[i]) out += (ch == '\r' || ch == '\n') ? ' ' : ch;
    out += "\r\n";
  }
  return out;
}

void ReplyParser::reset() {
  current_ = Reply{};
}

std::optional<Expected<Reply>> ReplyParser::feed_line(std::string_view line) {
  auto fail = [this](std::string m) {
    reset();
    return std::optional<Expected<Reply>>(make_error(std::move(m)));
  };
  if (line.size() > limits_.max_line_length) return fail("reply line too long");
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) {
    return fail("not an SMTP reply: '" + excerpt(line) + "'");
  }
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (code < 200 || code > 599) return fail("reply code out of range: " + std::to_string(code));
  bool last = true;
  std::string_view text;
  if (line.size() > 3) {
    if (line[3] == '-') {
      last = false;
    } else if (line[3] != ' ') {
      return fail("not an SMTP reply: '" + excerpt(line) + "'");
    }
    text = line.substr(4);
  }
  if (!current_.lines.empty() && current_.code != code) {
    return fail("reply codes differ within one reply: " + std::to_string(current_.code) + " then " +
                std::to_string(code));
  }
  if (current_.lines.size() >= limits_.max_lines) return fail("reply has too many lines");
  if (current_.lines.empty()) {
    current_.code = code;
    auto st = parse_enhanced_status(text);
    if (st && st->klass == code / 100) current_.status = st;
  }
  current_.lines.emplace_back(text);
  if (!last) return std::nullopt;
  Reply done = std::move(current_);
  reset();
  return Expected<Reply>(std::move(done));
}

Expected<Reply> parse_reply(std::string_view text, ReplyLimits limits) {
  ReplyParser p(limits);
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    auto r = p.feed_line(line);
    if (!r) continue;
    if (r->has_value() && pos < text.size()) return make_error("text after the end of the reply");
    return std::move(*r);
  }
  return make_error("incomplete reply");
}

}  // namespace relayscope::smtp
