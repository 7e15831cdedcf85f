// See host_stream.hpp. A co_await is never inside an if condition here (GCC
// 12's coroutine trap).
#include "lab/host_stream.hpp"

#include <string>

#include "lab/scripts.hpp"

namespace relayscope::lab {

namespace {
const net::IoResult stopped{net::IoError::closed, "the lab stopped"};
}

asio::awaitable<net::IoResult> HostStream::paced(std::string_view data, bool by_line, int pause_ms,
                                                 smtpd::Deadline deadline) {
  bool first = true;
  while (!data.empty()) {
    std::size_t n = 1;
    if (by_line) {
      auto nl = data.find('\n');
      n = nl == std::string_view::npos ? data.size() : nl + 1;
      // A client must wait for the last line of the greeting before it may
      // speak: the pause comes before each line but the first.
      if (!first) {
        bool waited = co_await ctx_.pause(pause_ms);
        if (!waited) co_return stopped;
      }
    }
    first = false;
    auto r = co_await inner_.write(data.substr(0, n), deadline);
    if (!r) co_return r;
    data.remove_prefix(n);
    if (!by_line) {
      bool waited = co_await ctx_.pause(pause_ms);
      if (!waited) co_return stopped;
    }
  }
  co_return net::IoResult{};
}

asio::awaitable<net::IoResult> HostStream::write(std::string_view data, smtpd::Deadline deadline) {
  const bool greeting = writes_++ == 0;
  const auto& delays = ctx_.hub.delays;
  if (greeting && ctx_.behaviour == Behaviour::slow_greeting) {
    auto r = co_await paced(data, true, delays.slow_greeting_ms / 4, deadline);
    co_return r;
  }
  if (greeting && ctx_.behaviour == Behaviour::slow_bytes) {
    auto r = co_await paced(data, false, delays.slow_byte_ms, deadline);
    co_return r;
  }
  if (!greeting && ctx_.behaviour == Behaviour::garbage_reply) {
    // One garbage line for each write (one per command the client waited on).
    std::string g = std::string(garbage_text(writes_ - 1)) + "\r\n";
    auto r = co_await inner_.write(g, deadline);
    co_return r;
  }
  auto r = co_await inner_.write(data, deadline);
  co_return r;
}

}  // namespace relayscope::lab
