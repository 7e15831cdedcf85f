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

// Tens of thousands of probes wait at once for slow greetings: a
// connection waiting for input holds no read buffer, and a long reply's
// buffer is given back once it is read. The peer sends only after the
// client's state was sampled (an event, not a delay).
TEST(Connection, AWaitingConnectionHoldsNoReadBuffer) {
  Peer p;
  asio::steady_timer first(p.io, asio::steady_timer::time_point::max());
  asio::steady_timer second(p.io, asio::steady_timer::time_point::max());
  const std::string long_text(3000, 'x');
  bool go_first = false, go_second = false;
  std::size_t before_greeting = 1 << 20, between = 1 << 20, after = 1 << 20;
  std::string got_long, got_short;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        while (!go_first) co_await first.async_wait(tuple);
        co_await write(s, "220-" + long_text + "\r\n");
        while (!go_second) co_await second.async_wait(tuple);
        co_await write(s, "220 short\r\n");
        co_await pause(500ms);
      },
      [&]() -> asio::awaitable<void> {
        Connection c(p.io.get_executor());
        co_await c.connect(p.endpoint(), ScopeGuard::loopback_only(), 5s);
        // Runs while the reads below are suspended, waiting for the peer.
        auto sample = [&c](std::size_t& into, bool& flag,
                           asio::steady_timer& go) -> asio::awaitable<void> {
          // co_spawn runs this at once: let the read below start and wait first.
          co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
          into = c.input_capacity();
          flag = true;
          go.cancel();
          co_return;
        };
        asio::co_spawn(p.io, sample(before_greeting, go_first, first), asio::detached);
        auto l1 = co_await c.next_line(5s);
        EXPECT_TRUE(l1) << to_string(l1.result.error);
        got_long = std::string(l1.value);
        asio::co_spawn(p.io, sample(between, go_second, second), asio::detached);
        auto l2 = co_await c.next_line(5s);
        EXPECT_TRUE(l2) << to_string(l2.result.error);
        got_short = std::string(l2.value);
        after = c.input_capacity();
      });
  EXPECT_EQ(got_long, "220-" + long_text);
  EXPECT_EQ(got_short, "220 short");
  // No allocation: only the string's own inline room (15 bytes).
  EXPECT_LE(before_greeting, 15u);
  EXPECT_LE(between, 15u);  // the 3 KB line's buffer was given back
  EXPECT_LE(after, 1024u);
}

// next_line's views: lines pipelined in one packet each come whole, each
// view valid until the next read; a line longer than one read is grown into.
TEST(Connection, NextLineGivesEachPipelinedLineAndGrowsForALongOne) {
  Peer p;
  const std::string big(10000, 'y');
  std::vector<std::string> lines;
  p.run(
      [&](tcp::socket& s) -> asio::awaitable<void> {
        co_await write(s, "250-a\r\n250-b\r\n250 " + big + "\r\n");
        co_await pause(500ms);
      },
      [&]() -> asio::awaitable<void> {
        Connection c(p.io.get_executor(), 16384);
        co_await c.connect(p.endpoint(), ScopeGuard::loopback_only(), 5s);
        for (int i = 0; i < 3; ++i) {
          auto l = co_await c.next_line(5s);
          EXPECT_TRUE(l) << to_string(l.result.error);
          lines.emplace_back(l.value);
        }
      });
  EXPECT_EQ(lines, (std::vector<std::string>{"250-a", "250-b", "250 " + big}));
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
