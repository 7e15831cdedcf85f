// An in-memory Stream for unit tests and the fuzzer: the test (the client)
// feeds bytes and reads what the session wrote; a read waits (on the
// executor, bounded by its deadline) until bytes are fed or the input ends.
// TLS is simulated (the handshake "succeeds" when allowed): real TLS is
// tested against real peers in the integration tests.
#pragma once

#include <string>
#include <vector>

#include "smtpd/stream.hpp"

namespace relayscope::smtpd {

class MemoryStream final : public Stream {
 public:
  explicit MemoryStream(asio::any_io_executor executor);

  // The client's side.
  void feed(std::string_view bytes);
  void finish();  // end of input after what was fed (the client closed)
  const std::string& output() const { return out_; }
  bool closed() const { return closed_; }
  // Waits until the output holds more than `size` bytes or the stream is
  // closed; false at the deadline.
  asio::awaitable<bool> wait_output(std::size_t size, Deadline deadline);
  // A readiness event with no byte behind it (what a reused descriptor gave).
  void set_stale_readiness(bool on) { stale_readiness_ = on; }
  void set_tls_allowed(bool on) { tls_allowed_ = on; }
  // Records the room each read_some was given (how big the session's reads
  // are); `into` must outlive the stream's use.
  void record_reads(std::vector<std::size_t>* into) { reads_ = into; }

  asio::awaitable<net::IoValue<std::size_t>> read_some(std::span<char> buf,
                                                       Deadline deadline) override;
  asio::awaitable<net::IoResult> write(std::string_view data, Deadline deadline) override;
  asio::awaitable<net::IoResult> start_tls(asio::ssl::context& context, Deadline deadline) override;
  bool tls_active() const override { return tls_; }
  asio::awaitable<bool> bytes_arrive_before(Deadline deadline) override;
  void close() override;

 private:
  asio::awaitable<void> wait(asio::steady_timer& timer, Deadline deadline);

  asio::steady_timer in_wake_;
  asio::steady_timer out_wake_;
  std::string in_;
  std::string out_;
  bool eof_ = false;
  bool closed_ = false;
  bool tls_ = false;
  bool tls_allowed_ = true;
  bool stale_readiness_ = false;
  std::vector<std::size_t>* reads_ = nullptr;
};

}  // namespace relayscope::smtpd
