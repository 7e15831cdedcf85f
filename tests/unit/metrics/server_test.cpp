// The responder over a real loopback socket: a GET gets the registry's text,
// a slow client is cut off at the deadline, an oversized head gets 413.
#include "metrics/server.hpp"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <thread>

namespace relayscope::metrics {
namespace {

using asio::ip::tcp;

// Sends `request` (then half-closes if asked) and reads the whole answer.
std::string exchange(const std::string& endpoint, const std::string& request) {
  auto ep = parse_listen(endpoint);
  EXPECT_TRUE(ep);
  asio::io_context io;
  tcp::socket s(io);
  s.connect(*ep);
  std::error_code ec;
  asio::write(s, asio::buffer(request), ec);
  std::string out;
  std::array<char, 1024> buf{};
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf.data(), n);
  }
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry.counter("relayscope_test_total", "A test counter", {{"kind", "a"}}).inc(5);
    ServerOptions o;
    o.timeout = std::chrono::milliseconds(300);
    auto s = Server::start(io.get_executor(), "127.0.0.1:0", registry, o);
    ASSERT_TRUE(s) << s.error().message;
    server = std::move(*s);
    thread = std::thread([this] { io.run(); });
  }
  void TearDown() override {
    asio::post(io, [this] { server->stop(); });
    work.reset();
    thread.join();
  }
  Registry registry;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{io.get_executor()};
  std::unique_ptr<Server> server;
  std::thread thread;
};

TEST_F(ServerTest, GetMetricsGetsTheRegistrysText) {
  auto out = exchange(server->endpoint(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("\r\n\r\n# HELP relayscope_test_total A test counter\n"), std::string::npos);
  EXPECT_NE(out.find("relayscope_test_total{kind=\"a\"} 5\n"), std::string::npos) << out;
}

TEST_F(ServerTest, OtherPathsAndMethodsAreRefused) {
  EXPECT_EQ(exchange(server->endpoint(), "GET /x HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);
  EXPECT_EQ(exchange(server->endpoint(), "PUT /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405 ", 0),
            0u);
  EXPECT_EQ(exchange(server->endpoint(), "garbage\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a');
  EXPECT_EQ(exchange(server->endpoint(), big).rfind("HTTP/1.1 413 ", 0), 0u);
}

TEST_F(ServerTest, AClientThatNeverFinishesIsCutOffAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  auto out = exchange(server->endpoint(), "GET /metrics HTTP/1.1\r\n");  // no empty line
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out, "");
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST(ParseListen, AddressesAndPorts) {
  EXPECT_TRUE(parse_listen("127.0.0.1:9100"));
  EXPECT_TRUE(parse_listen("[::1]:9100"));
  EXPECT_FALSE(parse_listen("127.0.0.1"));
  EXPECT_FALSE(parse_listen("localhost:9100"));
  EXPECT_FALSE(parse_listen("127.0.0.1:65536"));
  EXPECT_FALSE(parse_listen("127.0.0.1:"));
  EXPECT_FALSE(parse_listen("127.0.0.1:9x"));
}

}  // namespace
}  // namespace relayscope::metrics
