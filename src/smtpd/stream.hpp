// What the server session reads from and writes to: a byte stream with
// deadlines and a STARTTLS upgrade. The socket stream (over net::Connection,
// which the survey's client keeps using unchanged) serves real clients; the
// memory stream serves unit tests and the fuzzer. Line framing is not here:
// the session's InputBuffer does it the same way for both.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <cstddef>
#include <span>
#include <string_view>

#include "net/connection.hpp"

namespace relayscope::smtpd {

using Clock = net::Clock;
using Deadline = Clock::time_point;

class Stream {
 public:
  virtual ~Stream() = default;
  // Reads at least one byte into `buf` (up to its size) before the deadline.
  virtual asio::awaitable<net::IoValue<std::size_t>> read_some(std::span<char> buf,
                                                               Deadline deadline) = 0;
  virtual asio::awaitable<net::IoResult> write(std::string_view data, Deadline deadline) = 0;
  // The server side of a TLS handshake on the same stream.
  virtual asio::awaitable<net::IoResult> start_tls(asio::ssl::context& context,
                                                   Deadline deadline) = 0;
  virtual bool tls_active() const = 0;
  // True only when at least one byte has really been received before the
  // deadline (left unread): a readiness event alone proves nothing (a stale
  // one may belong to an earlier socket that had the same descriptor).
  virtual asio::awaitable<bool> bytes_arrive_before(Deadline deadline) = 0;
  virtual void close() = 0;
};

}  // namespace relayscope::smtpd
