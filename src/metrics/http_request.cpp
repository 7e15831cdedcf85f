// See http_request.hpp.
#include "metrics/http_request.hpp"

#include <algorithm>
#include <cctype>

#include "metrics/exposition.hpp"

namespace relayscope::metrics {

namespace {

// RFC 9110 token characters.
bool tchar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), tchar);
}

// A request target: visible ASCII, no spaces (RFC 9112 origin-form and kin).
bool target_ok(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ParseResult bad(int status, std::string why) {
  ParseResult r;
  r.status = ParseStatus::bad;
  r.error_status = status;
  r.error = std::move(why);
  return r;
}

}  // namespace

ParseResult parse_request(std::string_view bytes, std::size_t max_head) {
  // Find the end of the head: the first empty line.
  std::size_t pos = 0, end = std::string_view::npos, consumed = 0;
  while (pos < bytes.size()) {
    auto nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) break;
    auto line = bytes.substr(pos, nl - pos);
    if (line.empty() || line == "\r") {
      end = pos;
      consumed = nl + 1;
      break;
    }
    pos = nl + 1;
  }
  if (end == std::string_view::npos) {
    if (bytes.size() > max_head) return bad(413, "request head too large");
    return {};
  }
  if (consumed > max_head) return bad(413, "request head too large");

  auto head = bytes.substr(0, end);
  std::size_t lines = 0;
  ParseResult r;
  pos = 0;
  bool first = true;
  while (pos < head.size()) {
    auto nl = head.find('\n', pos);
    auto line = head.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos) {
      return bad(400, "stray CR or NUL in the request");
    }
    if (first) {
      first = false;
      // method SP target SP HTTP/1.x, single spaces.
      auto s1 = line.find(' ');
      if (s1 == std::string_view::npos) return bad(400, "malformed request line");
      auto s2 = line.find(' ', s1 + 1);
      if (s2 == std::string_view::npos) return bad(400, "malformed request line");
      auto method = line.substr(0, s1);
      auto target = line.substr(s1 + 1, s2 - s1 - 1);
      auto version = line.substr(s2 + 1);
      if (!token(method) || !target_ok(target)) return bad(400, "malformed request line");
      if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
          version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
        return bad(400, "malformed HTTP version");
      }
      if (version[5] != '1') return bad(505, "only HTTP/1.x is spoken here");
      r.request.method = std::string(method);
      r.request.target = std::string(target);
      r.request.minor_version = version[7] - '0';
      continue;
    }
    if (++lines > kMaxHeaderLines) return bad(413, "too many header lines");
    if (line.front() == ' ' || line.front() == '\t') return bad(400, "folded header line");
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !token(line.substr(0, colon))) {
      return bad(400, "malformed header line");
    }
    auto name = line.substr(0, colon);
    auto value = trim(line.substr(colon + 1));
    if (iequals(name, "Transfer-Encoding")) return bad(400, "a request body is not accepted");
    if (iequals(name, "Content-Length") && value != "0") {
      return bad(400, "a request body is not accepted");
    }
  }
  if (first) return bad(400, "empty request");
  r.status = ParseStatus::complete;
  r.consumed = consumed;
  return r;
}

Response route_parsed(const ParseResult& parsed, bool* wants_body) {
  *wants_body = false;
  Response r;
  r.content_type = "text/plain; charset=utf-8";
  if (parsed.status != ParseStatus::complete) {
    r.status = parsed.status == ParseStatus::bad ? parsed.error_status : 400;
    r.body = (parsed.error.empty() ? std::string("incomplete request") : parsed.error) + "\n";
    return r;
  }
  const auto& q = parsed.request;
  bool head = q.method == "HEAD";
  if (q.method != "GET" && !head) {
    r.status = 405;
    r.allow_get = true;
    r.body = "only GET /metrics\n";
    return r;
  }
  auto path = std::string_view(q.target).substr(0, q.target.find('?'));
  if (path != "/metrics") {
    r.status = 404;
    r.body = "not found: try /metrics\n";
    r.head_only = head;
    return r;
  }
  r.content_type = kContentType;
  r.head_only = head;
  *wants_body = true;
  return r;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string serialize(const Response& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (r.allow_get) out += "Allow: GET, HEAD\r\n";
  out += "Connection: close\r\n\r\n";
  if (!r.head_only) out += r.body;
  return out;
}

}  // namespace relayscope::metrics
