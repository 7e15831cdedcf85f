// See memory_stream.hpp. A waiter parks on a timer set to its deadline; a
// feed or a write cancels the timer to wake it, and it looks again.
#include "smtpd/memory_stream.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <cstring>

namespace relayscope::smtpd {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
}

MemoryStream::MemoryStream(asio::any_io_executor executor)
    : in_wake_(executor), out_wake_(executor) {}

void MemoryStream::feed(std::string_view bytes) {
  in_.append(bytes);
  in_wake_.cancel();
}

void MemoryStream::finish() {
  eof_ = true;
  in_wake_.cancel();
}

void MemoryStream::close() {
  closed_ = true;
  in_wake_.cancel();
  out_wake_.cancel();
}

asio::awaitable<void> MemoryStream::wait(asio::steady_timer& timer, Deadline deadline) {
  timer.expires_at(deadline);
  auto [ec] = co_await timer.async_wait(use_tuple);
  (void)ec;
}

asio::awaitable<net::IoValue<std::size_t>> MemoryStream::read_some(std::span<char> buf,
                                                                   Deadline deadline) {
  if (reads_) reads_->push_back(buf.size());
  for (;;) {
    if (closed_) co_return net::IoValue<std::size_t>{{net::IoError::closed, "closed"}, 0};
    if (!in_.empty()) {
      auto n = std::min(buf.size(), in_.size());
      std::memcpy(buf.data(), in_.data(), n);
      in_.erase(0, n);
      co_return net::IoValue<std::size_t>{{}, n};
    }
    if (eof_) {
      co_return net::IoValue<std::size_t>{{net::IoError::closed, "connection closed by peer"}, 0};
    }
    if (Clock::now() >= deadline) {
      co_return net::IoValue<std::size_t>{{net::IoError::timeout, "timed out"}, 0};
    }
    co_await wait(in_wake_, deadline);
  }
}

asio::awaitable<net::IoResult> MemoryStream::write(std::string_view data, Deadline) {
  if (closed_) co_return net::IoResult{net::IoError::closed, "closed"};
  out_.append(data);
  out_wake_.cancel();
  co_return net::IoResult{};
}

asio::awaitable<net::IoResult> MemoryStream::start_tls(asio::ssl::context&, Deadline) {
  if (!tls_allowed_) co_return net::IoResult{net::IoError::tls, "handshake refused"};
  tls_ = true;
  co_return net::IoResult{};
}

asio::awaitable<bool> MemoryStream::bytes_arrive_before(Deadline deadline) {
  for (;;) {
    if (!in_.empty()) co_return true;
    if (eof_ || closed_ || Clock::now() >= deadline) co_return false;
    // A stale readiness event is only a wake-up: what counts is the bytes.
    if (stale_readiness_) {
      stale_readiness_ = false;
      continue;
    }
    co_await wait(in_wake_, deadline);
  }
}

asio::awaitable<bool> MemoryStream::wait_output(std::size_t size, Deadline deadline) {
  for (;;) {
    if (out_.size() > size || closed_) co_return true;
    if (Clock::now() >= deadline) co_return false;
    co_await wait(out_wake_, deadline);
  }
}

}  // namespace relayscope::smtpd
