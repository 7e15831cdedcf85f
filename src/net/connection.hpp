// A TCP connection with line-oriented, timed, bounded I/O and optional TLS:
// the only place where SMTP bytes meet sockets, for the client dialogue and
// the server session alike. Every wait takes a timeout; the input buffer
// never grows past the line limit (or the raw chunk size in DATA mode).
// Errors are values (no exceptions on the network path).
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "common/expected.hpp"
#include "net/scope_guard.hpp"

namespace relayscope::net {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::steady_clock::duration;

// Why an I/O step failed, in words a report can show.
enum class IoError {
  none,
  timeout,
  closed,
  reset,
  refused,
  line_too_long,
  tls,
  out_of_scope,
  // Our own shortage, not the peer's doing: no descriptor (EMFILE/ENFILE),
  // no source port or address (EADDRNOTAVAIL/EADDRINUSE), no buffer memory.
  // Never a host's outcome: the survey waits and tries again.
  local,
  other
};
const char* to_string(IoError e);

struct IoResult {
  IoError error = IoError::none;
  std::string detail;  // system message, for logs
  explicit operator bool() const { return error == IoError::none; }
};

template <class T>
struct IoValue {
  IoResult result;
  T value{};
  explicit operator bool() const { return static_cast<bool>(result); }
};

class Connection {
 public:
  explicit Connection(asio::any_io_executor executor, std::size_t max_line = 4096);
  // Adopts an accepted socket (server side).
  Connection(asio::ip::tcp::socket socket, std::size_t max_line = 4096);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Checks the scope first; then connects, optionally from a given local
  // address (to appear as a "local network" client in tests).
  asio::awaitable<IoResult> connect(const asio::ip::tcp::endpoint& peer, const ScopeGuard& scope,
                                    Duration timeout,
                                    std::optional<asio::ip::address> local = std::nullopt);

  // One line without its line ending (CRLF, or a bare LF, is stripped).
  asio::awaitable<IoValue<std::string>> read_line(Duration timeout);
  // The same line as a view into the input buffer, valid until the next
  // read on this connection: no allocation per line (the survey's probes).
  asio::awaitable<IoValue<std::string_view>> next_line(Duration timeout);
  // Raw bytes for DATA: returns a view of buffered input, reading once if the
  // buffer is empty. The caller says how much it used with consume().
  asio::awaitable<IoValue<std::string_view>> read_some(Duration timeout);
  void consume(std::size_t n);

  asio::awaitable<IoResult> write(std::string_view data, Duration timeout);

  asio::awaitable<IoResult> start_tls_client(asio::ssl::context& context, const std::string& sni,
                                             Duration timeout);
  asio::awaitable<IoResult> start_tls_server(asio::ssl::context& context, Duration timeout);
  bool tls_active() const;

  // Input that arrived but was not read yet: a client that talks before the
  // greeting, or commands pipelined behind STARTTLS (which must be dropped).
  bool has_buffered_input() const;
  void discard_buffered_input();
  // Waits up to `window` for input to arrive without consuming it: used to
  // catch clients that talk before the greeting.
  asio::awaitable<bool> input_arrives_within(Duration window);

  // Bytes the input buffer holds allocated: it grows with what arrives (up
  // to the line limit), and a connection waiting with nothing buffered
  // holds at most a small one (tens of thousands of probes wait at once).
  std::size_t input_capacity() const;

  void close();
  bool is_open() const;
  std::string remote_address() const;
  std::string local_address() const;
  asio::ip::tcp::socket& socket();

 private:
  struct Core;
  asio::awaitable<IoResult> fill(Duration timeout, std::size_t chunk);
  asio::awaitable<IoResult> fill_plain(Duration timeout, std::size_t chunk);
  void drop_consumed();
  void arm(Duration timeout);
  void disarm();
  IoResult describe(const std::error_code& ec) const;

  std::shared_ptr<Core> core_;
  std::size_t max_line_;
};

}  // namespace relayscope::net
