// The metrics endpoint's HTTP/1.x: a pure parser of a request head (bytes
// from anyone who can reach the port) and the one routing decision, GET or
// HEAD /metrics; everything else is 400, 404, 405, 413 or 505. No I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace relayscope::metrics {

// Bounds on what a request may be: a scraper's request is a few hundred bytes.
inline constexpr std::size_t kMaxRequestHead = 8192;
inline constexpr std::size_t kMaxHeaderLines = 100;

struct Request {
  std::string method;
  std::string target;     // as sent: "/metrics", "/metrics?x=1"
  int minor_version = 1;  // HTTP/1.minor
};

enum class ParseStatus {
  incomplete,  // no end of head yet, and within the bound: read more
  complete,    // `request` and `consumed` are set
  bad,         // answer `status` and close
};

struct ParseResult {
  ParseStatus status = ParseStatus::incomplete;
  Request request;
  std::size_t consumed = 0;  // bytes of the head, its empty line included
  int error_status = 0;      // with bad: 400, 413 (head too large), 505 (not HTTP/1.x)
  std::string error;         // with bad: why, for the response body
};

// Parses a request head: the request line, header lines, an empty line
// (lines end in CRLF; a bare LF is taken too, RFC 9112 section 2.2). A head
// longer than `max_head` without its end is 413. A request that announces a
// body (Content-Length other than 0, or Transfer-Encoding) is 400: this
// endpoint takes none.
ParseResult parse_request(std::string_view bytes, std::size_t max_head = kMaxRequestHead);

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  bool head_only = false;  // HEAD: headers as for GET, no body
  bool allow_get = false;  // 405: say what is allowed
};

// What to answer: `body` is the exposition text, called only for a
// complete GET or HEAD of /metrics.
template <typename Body>
Response route(const ParseResult& parsed, Body&& body);

// The response's bytes: status line, Content-Type, Content-Length,
// Connection: close, then the body (none for HEAD).
std::string serialize(const Response& r);

// The reason phrase of the statuses used here.
const char* reason_phrase(int status);

// Implementation of the template (kept here: it is three branches).
Response route_parsed(const ParseResult& parsed, bool* wants_body);

template <typename Body>
Response route(const ParseResult& parsed, Body&& body) {
  bool wants = false;
  Response r = route_parsed(parsed, &wants);
  if (wants) r.body = body();
  return r;
}

}  // namespace relayscope::metrics
