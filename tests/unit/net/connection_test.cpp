// Connection against a scripted peer on 127.0.0.1: lines split across
// packets, endless lines, timeouts, resets, and the scope check.
#include "net/connection.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../support/loopback_peer.hpp"

namespace relayscope::net {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using Peer = testing::LoopbackPeer;
using testing::tuple;

asio::awaitable<void> write(tcp::socket& s, std::string data) {
  co_await testing::send(s, std::move(data));
}
asio::awaitable<void> pause(std::chrono::milliseconds d) {
  co_await testing::gap(d);
}

TEST(Connection, ReadsLinesSplitAcrossPackets) {
  Peer p;
  std::vector<std::string> lines;
  p.run(
      [](tcp::socket& s) -> asio::awaitable<void> {
        co_await write(s, "220-first pa");
        co_await pause(50ms);
        co_await write(s, "rt\r\n220 second\r");
        co_await pause(50ms);
        co_await write(s, "\nbare lf\n");
        co_await pause(200ms);
      },
      [&]() -> asio::awaitable<void> {
        Connection c(p.io.get_executor());
        auto r = co_await c.connect(p.endpoint(), ScopeGuard::loopback_only(), 5s);
        EXPECT_TRUE(r) << r.detail;
        for (int i = 0; i < 3; ++i) {
          auto l = co_await c.read_line(5s);
          EXPECT_TRUE(l) << to_string(l.result.error);
          lines.push_back(l.value);
        }
      });
  EXPECT_EQ(lines, (std::vector<std::string>{"220-first part", "220 second", "bare lf"}));
}

TEST(Connection, AnEndlessLineIsAnErrorNotAnAllocation) {
  Peer p;
  IoError error = IoError::none;
  p.run(
      [](tcp::socket& s) -> asio::awaitable<void> {
        std::string chunk(64 * 1024, 'x');
        for (int i = 0; i < 16; ++i) co_await write(s, chunk);  // a megabyte, no newline
      },
      [&]() -> asio::awaitable<void> {
        Connection c(p.io.get_executor(), 4096);
        co_await c.connect(p.endpoint(), ScopeGuard::loopback_only(), 5s);
        auto l = co_await c.read_line(5s);
        error = l.result.error;
      });
  EXPECT_EQ(error, IoError::line_too_long);
}

TEST(Connection, ASilentPeerTimesOutWithinTheTimeout) {
  Peer p;
  IoError error = IoError::none;
  auto elapsed = 0ms;
  p.run([](tcp::socket&) -> asio::awaitable<void> { co_await pause(3000ms); },
        [&]() -> asio::awaitable<void> {
          Connection c(p.io.get_executor());
          co_await c.connect(p.endpoint(), ScopeGuard::loopback_only(), 5s);
          auto start = std::chrono::steady_clock::now();
          auto l = co_await c.read_line(300ms);
          elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - start);
          error = l.result.error;
        });
  EXPECT_EQ(error, IoError::timeout);
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 2000ms);
}

TEST(Connection, ThePeerClosingIsReportedAsClosed) {
  Peer p;
  IoError error = IoError::none;
  p.run(
      [](tcp::socket& s) -> asio::awaitable<void> {
        co_await write(s, "partial");
        s.close();
      },
      [&]() -> asio::awaitable<void> {
        Connection c(p.io.get_executor());
        co_await c.connect(p.endpoint(), ScopeGuard::loopback_only(), 5s);
        auto l = co_await c.read_line(5s);
        error = l.result.error;
      });
  EXPECT_EQ(error, IoError::closed);
}

TEST(Connection, AResetIsReportedAsReset) {
  Peer p;
  IoError error = IoError::none;
  p.run(
      [](tcp::socket& s) -> asio::awaitable<void> {
        co_await write(s, "220 hi\r\n");
        s.set_option(asio::socket_base::linger(true, 0));  // close with RST
        s.close();
        co_return;
      },
      [&]() -> asio::awaitable<void> {
        Connection c(p.io.get_executor());
        co_await c.connect(p.endpoint(), ScopeGuard::loopback_only(), 5s);
        auto l = co_await c.read_line(5s);
        EXPECT_TRUE(l);
        auto l2 = co_await c.read_line(5s);
        error = l2.result.error;
      });
  EXPECT_TRUE(error == IoError::reset || error == IoError::closed) << to_string(error);
}

TEST(Connection, RefusedConnectionIsReportedAsRefused) {
  asio::io_context io;
  tcp::endpoint unused;
  {
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    unused = a.local_endpoint();
  }  // closed: nothing listens there now
  IoError error = IoError::none;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Connection c(io.get_executor());
        auto r = co_await c.connect(unused, ScopeGuard::loopback_only(), 5s);
        error = r.error;
      },
      asio::detached);
  io.run_for(10s);
  EXPECT_EQ(error, IoError::refused);
}

TEST(Connection, ASourceAddressIsBoundWithoutReservingAPort) {
  Peer p;
  std::string seen_from;
  int no_port = -1;
  std::string local;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        seen_from = s.remote_endpoint().address().to_string();
        co_await write(s, "220 hi\r\n");
      },
      [&]() -> asio::awaitable<void> {
        Connection c(p.io.get_executor());
        auto r = co_await c.connect(p.endpoint(), ScopeGuard::loopback_only(), 5s,
                                    asio::ip::make_address("127.0.0.3"));
        EXPECT_TRUE(r) << r.detail;
        // The port is picked at connect() per destination, not at bind().
        socklen_t len = sizeof no_port;
        ::getsockopt(c.socket().native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &no_port,
                     &len);
        local = c.local_address();
        co_await c.read_line(5s);
      });
  EXPECT_EQ(seen_from, "127.0.0.3");
  EXPECT_EQ(local, "127.0.0.3");
  EXPECT_EQ(no_port, 1);
}

TEST(Connection, OutOfScopeSendsNothing) {
  asio::io_context io;
  IoResult result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Connection c(io.get_executor());
        result = co_await c.connect(tcp::endpoint(asio::ip::make_address("192.0.2.1"), 25),
                                    ScopeGuard::loopback_only(), 5s);
        EXPECT_FALSE(c.is_open());
      },
      asio::detached);
  io.run_for(5s);
  EXPECT_EQ(result.error, IoError::out_of_scope);
}

}  // namespace
}  // namespace relayscope::net
