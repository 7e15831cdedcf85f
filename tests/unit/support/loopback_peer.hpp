// A scripted peer for unit tests: accepts one connection on 127.0.0.1 and
// runs a coroutine script on it while the test's own coroutine runs beside
// it on the same event loop. Bounded: the loop runs at most 20 seconds.
#pragma once

#include <gtest/gtest.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace relayscope::testing {

inline constexpr auto tuple = asio::experimental::as_tuple(asio::use_awaitable);

struct LoopbackPeer {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  asio::ip::tcp::endpoint endpoint() const { return acceptor.local_endpoint(); }

  void run(std::function<asio::awaitable<void>(asio::ip::tcp::socket&)> script,
           std::function<asio::awaitable<void>()> client) {
    asio::co_spawn(
        io,
        [this, script]() -> asio::awaitable<void> {
          auto [ec, s] = co_await acceptor.async_accept(tuple);
          if (!ec) co_await script(s);
        },
        asio::detached);
    bool finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await client();
          finished = true;
        },
        [this](std::exception_ptr e) {
          // The peer's script may still be blocked (a megabyte nobody reads):
          // the test is over when the client is.
          io.stop();
          if (e) std::rethrow_exception(e);
        });
    io.run_for(std::chrono::seconds(20));
    ASSERT_TRUE(finished) << "the client did not finish";
  }
};

inline asio::awaitable<void> send(asio::ip::tcp::socket& s, std::string data) {
  co_await asio::async_write(s, asio::buffer(data), tuple);
}

// Reads one line (up to LF) from the peer's side; "" on error.
inline asio::awaitable<std::string> receive_line(asio::ip::tcp::socket& s, std::string& buffer) {
  auto [ec, n] =
      co_await asio::async_read_until(s, asio::dynamic_buffer(buffer, 65536), "\n", tuple);
  if (ec) co_return std::string();
  std::string line = buffer.substr(0, n);
  buffer.erase(0, n);
  co_return line;
}

// Shapes traffic into separate packets (not a synchronisation device).
inline asio::awaitable<void> gap(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(tuple);
}

}  // namespace relayscope::testing
