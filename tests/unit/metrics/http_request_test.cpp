// The metrics endpoint's request parser and routing: a scraper's GET, HEAD,
// requests in pieces, and every way a request is refused.
#include "metrics/http_request.hpp"

#include <gtest/gtest.h>

namespace relayscope::metrics {
namespace {

const std::string curl =
    "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9100\r\nUser-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n\r\n";

Response answer(const std::string& in) {
  return route(parse_request(in), [] { return std::string("relayscope_up 1\n"); });
}

TEST(HttpRequest, AScrapersGetIsComplete) {
  auto r = parse_request(curl);
  ASSERT_EQ(r.status, ParseStatus::complete) << r.error;
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.target, "/metrics");
  EXPECT_EQ(r.request.minor_version, 1);
  EXPECT_EQ(r.consumed, curl.size());
  auto resp = answer(curl);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(serialize(resp),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: 16\r\nConnection: close\r\n\r\nrelayscope_up 1\n");
}

TEST(HttpRequest, EveryPrefixIsIncompleteUntilTheEmptyLine) {
  for (std::size_t n = 0; n < curl.size(); ++n) {
    EXPECT_EQ(parse_request(curl.substr(0, n)).status, ParseStatus::incomplete) << n;
  }
}

TEST(HttpRequest, HeadAndQueryAndBareLf) {
  auto resp = answer("HEAD /metrics?name=x HTTP/1.0\n\n");
  EXPECT_EQ(resp.status, 200);
  auto wire = serialize(resp);
  EXPECT_NE(wire.find("Content-Length: 16\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.size() - 4), "\r\n\r\n");  // no body
}

TEST(HttpRequest, RefusalsHaveTheirStatus) {
  EXPECT_EQ(answer("GET / HTTP/1.1\r\n\r\n").status, 404);
  EXPECT_EQ(answer("GET /metricsx HTTP/1.1\r\n\r\n").status, 404);
  auto post = answer("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(serialize(post).find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(answer("DELETE /metrics HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(answer("GET /metrics HTTP/2.0\r\n\r\n").status, 505);
  EXPECT_EQ(answer("GET /metrics HTTX/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(answer("GET  /metrics HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(answer("GET /metrics\r\n\r\n").status, 400);
  EXPECT_EQ(answer("\r\n").status, 400);
  EXPECT_EQ(answer("GET /metrics HTTP/1.1\r\nX: a\r\n b\r\n\r\n").status, 400);
  EXPECT_EQ(answer("GET /metrics HTTP/1.1\r\nno colon\r\n\r\n").status, 400);
  EXPECT_EQ(answer("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello").status, 400);
  EXPECT_EQ(answer("GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").status, 400);
  EXPECT_EQ(answer(std::string("GET /met\0rics HTTP/1.1\r\n\r\n", 26)).status, 400);
  EXPECT_EQ(answer("GET /metrics HTTP/1.1\rX\r\n\r\n").status, 400);
}

TEST(HttpRequest, TheHeadIsBounded) {
  std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(kMaxRequestHead, 'a');
  auto r = parse_request(big);
  EXPECT_EQ(r.status, ParseStatus::bad);
  EXPECT_EQ(r.error_status, 413);
  std::string many = "GET /metrics HTTP/1.1\r\n";
  for (std::size_t i = 0; i <= kMaxHeaderLines; ++i) many += "X: y\r\n";
  EXPECT_EQ(parse_request(many + "\r\n").error_status, 413);
  EXPECT_EQ(parse_request(std::string(100, 'G'), 64).error_status, 413);
}

}  // namespace
}  // namespace relayscope::metrics
