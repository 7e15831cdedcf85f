// The lab's Stream wrapper around the one server session's socket stream:
// what a host does to the bytes of its replies that a normal server never
// does. A slow_greeting host spreads its multi-line greeting over
// slow_greeting_ms, line by line; a slow_bytes host sends its greeting one
// byte per slow_byte_ms; a garbage_reply host answers every command with a
// line that is no SMTP reply. Everything else passes through unchanged.
#pragma once

#include "lab/host_context.hpp"
#include "smtpd/socket_stream.hpp"

namespace relayscope::lab {

class HostStream final : public smtpd::Stream {
 public:
  HostStream(smtpd::SocketStream& inner, HostContext& ctx) : inner_(inner), ctx_(ctx) {}

  asio::awaitable<net::IoValue<std::size_t>> read_some(std::span<char> buf,
                                                       smtpd::Deadline deadline) override {
    auto r = co_await inner_.read_some(buf, deadline);
    co_return r;
  }
  asio::awaitable<net::IoResult> write(std::string_view data, smtpd::Deadline deadline) override;
  asio::awaitable<net::IoResult> start_tls(asio::ssl::context& context,
                                           smtpd::Deadline deadline) override {
    auto r = co_await inner_.start_tls(context, deadline);
    co_return r;
  }
  bool tls_active() const override { return inner_.tls_active(); }
  asio::awaitable<bool> bytes_arrive_before(smtpd::Deadline deadline) override {
    bool early = co_await inner_.bytes_arrive_before(deadline);
    co_return early;
  }
  void close() override { inner_.close(); }

 private:
  // Writes `data` a line at a time with `pause_ms` before each line but the
  // first (`by_line`), or a byte at a time with `pause_ms` after each.
  asio::awaitable<net::IoResult> paced(std::string_view data, bool by_line, int pause_ms,
                                       smtpd::Deadline deadline);

  smtpd::SocketStream& inner_;
  HostContext& ctx_;
  std::size_t writes_ = 0;
};

}  // namespace relayscope::lab
