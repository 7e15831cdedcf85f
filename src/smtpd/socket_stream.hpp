// The session's stream over an accepted TCP socket: net::Connection's timed
// I/O and TLS, used as a plain byte stream (net::Connection itself is not
// changed, so the survey's client costs what it did). Clear-text reads go
// straight into the session's own buffer (no second buffer per session).
#pragma once

#include "net/connection.hpp"
#include "smtpd/stream.hpp"

namespace relayscope::smtpd {

class SocketStream final : public Stream {
 public:
  explicit SocketStream(asio::ip::tcp::socket socket) : conn_(std::move(socket)) {}
  asio::awaitable<net::IoValue<std::size_t>> read_some(std::span<char> buf,
                                                       Deadline deadline) override;
  asio::awaitable<net::IoResult> write(std::string_view data, Deadline deadline) override;
  asio::awaitable<net::IoResult> start_tls(asio::ssl::context& context, Deadline deadline) override;
  bool tls_active() const override { return conn_.tls_active(); }
  asio::awaitable<bool> bytes_arrive_before(Deadline deadline) override;
  void close() override { conn_.close(); }
  // Ends the connection with a TCP reset rather than a FIN (the lab's hosts
  // that hang up mid-session).
  void reset();

 private:
  net::Connection conn_;
};

}  // namespace relayscope::smtpd
