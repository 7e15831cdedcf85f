// See socket_stream.hpp.
#include "smtpd/socket_stream.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace relayscope::smtpd {

namespace {
net::Duration left(Deadline d) {
  return std::max(d - Clock::now(), net::Duration::zero());
}
}  // namespace

asio::awaitable<net::IoValue<std::size_t>> SocketStream::read_some(std::span<char> buf,
                                                                   Deadline deadline) {
  using Value = net::IoValue<std::size_t>;
  if (Clock::now() >= deadline) co_return Value{{net::IoError::timeout, "timed out"}, 0};
  // In clear text, with nothing buffered by the connection: straight from
  // the socket into the session's buffer, so that a session waiting for its
  // client holds no read buffer of the connection's too (16 KiB each, for
  // 10,000 idle sessions 160 MB). TLS reads go through the connection.
  while (!conn_.tls_active() && !conn_.has_buffered_input()) {
    auto n = ::recv(conn_.socket().native_handle(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) co_return Value{{}, static_cast<std::size_t>(n)};
    if (n == 0) co_return Value{{net::IoError::closed, "connection closed by peer"}, 0};
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      auto why = errno == ECONNRESET ? net::IoError::reset : net::IoError::closed;
      co_return Value{{why, std::strerror(errno)}, 0};
    }
    // Nothing yet (or a stale readiness event): wait for the next bytes.
    bool ready = co_await conn_.input_arrives_within(left(deadline));
    if (!ready) {
      if (Clock::now() >= deadline) co_return Value{{net::IoError::timeout, "timed out"}, 0};
      co_return Value{{net::IoError::closed, "connection closed"}, 0};
    }
  }
  auto chunk = co_await conn_.read_some(left(deadline));
  if (!chunk) co_return net::IoValue<std::size_t>{chunk.result, 0};
  auto n = std::min(buf.size(), chunk.value.size());
  std::memcpy(buf.data(), chunk.value.data(), n);
  conn_.consume(n);
  co_return net::IoValue<std::size_t>{{}, n};
}

asio::awaitable<net::IoResult> SocketStream::write(std::string_view data, Deadline deadline) {
  auto r = co_await conn_.write(data, left(deadline));
  co_return r;
}

asio::awaitable<net::IoResult> SocketStream::start_tls(asio::ssl::context& context,
                                                       Deadline deadline) {
  auto r = co_await conn_.start_tls_server(context, left(deadline));
  co_return r;
}

asio::awaitable<bool> SocketStream::bytes_arrive_before(Deadline deadline) {
  if (conn_.has_buffered_input()) co_return true;
  for (;;) {
    auto wait = left(deadline);
    if (wait <= net::Duration::zero()) co_return false;
    bool ready = co_await conn_.input_arrives_within(wait);
    if (!ready) co_return false;
    // Readiness is only a hint: look at what is really there.
    char byte = 0;
    auto n = ::recv(conn_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) co_return true;
    if (n == 0) co_return false;  // closed: not talking (the greeting write will tell)
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) co_return false;
    // A stale event: nothing arrived; wait for the rest of the window.
  }
}

void SocketStream::reset() {
  // Linger 0 then close without shutdown: the kernel sends RST, not FIN.
  std::error_code ignored;
  conn_.socket().set_option(asio::socket_base::linger(true, 0), ignored);
  conn_.socket().close(ignored);
}

}  // namespace relayscope::smtpd
