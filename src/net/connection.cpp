// See connection.hpp. The timeout is a watchdog timer that cancels the socket
// when it fires; the timer's handler holds only a weak reference, so a
// connection destroyed while a wake-up is queued is never touched.
#include "net/connection.hpp"

#include <netinet/in.h>

#include <asio/experimental/as_tuple.hpp>

namespace relayscope::net {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t raw_chunk = 16 * 1024;
// An emptied input buffer larger than this is given back: a long EHLO reply
// must not stay allocated while the probe waits seconds for the next one.
constexpr std::size_t kept_capacity = 1024;
// The most one line read takes from the socket at once (on the stack).
constexpr std::size_t line_chunk = 4096;

// Reads what the socket holds now, up to `room` bytes, into a buffer on the
// stack, and appends only what came: the input buffer is as large as the
// data, not as the read. 0 with no error: nothing there yet (would block).
std::size_t read_now(asio::ip::tcp::socket& socket, std::string& in, std::size_t room,
                     std::error_code& ec) {
  char chunk[line_chunk];
  auto n = socket.read_some(asio::buffer(chunk, std::min(room, sizeof chunk)), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec.clear();
    return 0;
  }
  if (!ec) in.append(chunk, n);
  return n;
}
}  // namespace

struct Connection::Core {
  explicit Core(asio::ip::tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  asio::ip::tcp::socket socket;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls;
  asio::steady_timer timer;
  std::string in;  // received, not yet consumed
  // Bytes at the front of `in` already handed out as a line view
  // (next_line), dropped before the next read.
  std::size_t consumed = 0;
  std::uint64_t generation = 0;
  bool timed_out = false;
};

const char* to_string(IoError e) {
  switch (e) {
    case IoError::none:
      return "ok";
    case IoError::timeout:
      return "timeout";
    case IoError::closed:
      return "closed";
    case IoError::reset:
      return "reset";
    case IoError::refused:
      return "refused";
    case IoError::line_too_long:
      return "line too long";
    case IoError::tls:
      return "TLS failure";
    case IoError::out_of_scope:
      return "out of scope";
    case IoError::local:
      return "local resource shortage";
    case IoError::other:
      return "error";
  }
  return "error";
}

Connection::Connection(asio::any_io_executor executor, std::size_t max_line)
    : core_(std::make_shared<Core>(asio::ip::tcp::socket(executor))), max_line_(max_line) {}

Connection::Connection(asio::ip::tcp::socket socket, std::size_t max_line)
    : core_(std::make_shared<Core>(std::move(socket))), max_line_(max_line) {}

Connection::~Connection() {
  close();
}

void Connection::arm(Duration timeout) {
  auto gen = ++core_->generation;
  core_->timed_out = false;
  core_->timer.expires_after(timeout);
  core_->timer.async_wait([weak = std::weak_ptr<Core>(core_), gen](const std::error_code& ec) {
    if (ec) return;
    auto core = weak.lock();
    if (!core || core->generation != gen) return;
    core->timed_out = true;
    std::error_code ignored;
    core->socket.cancel(ignored);
  });
}

void Connection::disarm() {
  ++core_->generation;
  core_->timer.cancel();
}

IoResult Connection::describe(const std::error_code& ec) const {
  if (!ec) return {};
  if (core_->timed_out) return {IoError::timeout, "timed out"};
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    return {IoError::closed, "connection closed by peer"};
  }
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
    return {IoError::reset, ec.message()};
  }
  if (ec == asio::error::connection_refused) return {IoError::refused, ec.message()};
  if (ec.category() == asio::error::get_ssl_category()) return {IoError::tls, ec.message()};
  if (ec == asio::error::no_descriptors || ec == std::errc::too_many_files_open_in_system ||
      ec == asio::error::address_in_use || ec == std::errc::address_not_available ||
      ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
    return {IoError::local, ec.message()};
  }
  return {IoError::other, ec.message()};
}

asio::awaitable<IoResult> Connection::connect(const asio::ip::tcp::endpoint& peer,
                                              const ScopeGuard& scope, Duration timeout,
                                              std::optional<asio::ip::address> local) {
  if (auto ok = scope.check(peer.address().to_string()); !ok) {
    co_return IoResult{IoError::out_of_scope, ok.error().message};
  }
  auto& sock = core_->socket;
  std::error_code ec;
  sock.open(peer.protocol(), ec);
  if (ec) co_return describe(ec);
  if (local) {
    // The port is chosen at connect() time, per destination, not at bind():
    // a bound source address alone would otherwise reserve a port of the
    // ephemeral range per connection and cap a run at some 28,000 probes
    // in flight (IP_BIND_ADDRESS_NO_PORT, Linux 4.2; it serves IPv6 too).
    using no_port = asio::detail::socket_option::boolean<IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT>;
    sock.set_option(no_port(true), ec);
    if (ec) co_return describe(ec);
    sock.bind(asio::ip::tcp::endpoint(*local, 0), ec);
    if (ec) co_return describe(ec);
  }
  arm(timeout);
  auto [cec] = co_await sock.async_connect(peer, use_tuple);
  disarm();
  if (!cec) sock.set_option(asio::ip::tcp::no_delay(true), ec);
  co_return describe(cec);
}

asio::awaitable<IoResult> Connection::fill(Duration timeout, std::size_t chunk) {
  auto& in = core_->in;
  auto old = in.size();
  in.resize(old + chunk);
  arm(timeout);
  std::error_code ec;
  std::size_t n = 0;
  if (core_->tls) {
    std::tie(ec, n) =
        co_await core_->tls->async_read_some(asio::buffer(&in[old], chunk), use_tuple);
  } else {
    std::tie(ec, n) =
        co_await core_->socket.async_read_some(asio::buffer(&in[old], chunk), use_tuple);
  }
  disarm();
  in.resize(old + n);
  co_return describe(ec);
}

// Plain TCP: wait for readability with no buffer, then take what is there.
// A probe waiting seconds for a greeting holds no read buffer at all.
asio::awaitable<IoResult> Connection::fill_plain(Duration timeout, std::size_t chunk) {
  auto& socket = core_->socket;
  std::error_code ec;
  // Reads on the event loop's thread must never block: a readiness without
  // data (spurious, or stale) then reads nothing and waits again.
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  if (ec) co_return describe(ec);
  // Most replies are there already when asked for: read first, wait after.
  if (read_now(socket, core_->in, chunk, ec) > 0 || ec) co_return describe(ec);
  arm(timeout);
  for (;;) {
    auto [wec] = co_await socket.async_wait(asio::ip::tcp::socket::wait_read, use_tuple);
    if (wec) {
      disarm();
      co_return describe(wec);
    }
    if (read_now(socket, core_->in, chunk, ec) > 0 || ec) break;
  }
  disarm();
  co_return describe(ec);
}

void Connection::drop_consumed() {
  auto& in = core_->in;
  if (core_->consumed == 0) return;
  in.erase(0, core_->consumed);
  core_->consumed = 0;
  // Between lines only (the raw DATA path keeps its buffer: no allocation
  // per read there).
  if (in.empty() && in.capacity() > kept_capacity) std::string().swap(in);
}

asio::awaitable<IoValue<std::string_view>> Connection::next_line(Duration timeout) {
  drop_consumed();
  auto deadline = Clock::now() + timeout;
  std::size_t scanned = 0;
  for (;;) {
    auto& in = core_->in;
    auto nl = in.find('\n', scanned);
    if (nl != std::string::npos) {
      if (nl > max_line_) break;
      std::size_t end = (nl > 0 && in[nl - 1] == '\r') ? nl - 1 : nl;
      core_->consumed = nl + 1;
      co_return IoValue<std::string_view>{{}, std::string_view(in.data(), end)};
    }
    scanned = in.size();
    if (in.size() > max_line_) break;
    auto left = deadline - Clock::now();
    if (left <= Duration::zero())
      co_return IoValue<std::string_view>{{IoError::timeout, "timed out"}, {}};
    // Never read more than one byte past the limit, so an endless line costs
    // at most max_line_ bytes of memory.
    auto room = std::min<std::size_t>(line_chunk, max_line_ + 1 - in.size());
    // Not a conditional expression around co_await (GCC 12 frees a
    // temporary of one twice): one statement each.
    IoResult r;
    if (core_->tls) {
      r = co_await fill(left, room);
    } else {
      r = co_await fill_plain(left, room);
    }
    if (!r) co_return IoValue<std::string_view>{r, {}};
  }
  co_return IoValue<std::string_view>{
      {IoError::line_too_long, "line longer than " + std::to_string(max_line_)}, {}};
}

asio::awaitable<IoValue<std::string>> Connection::read_line(Duration timeout) {
  auto line = co_await next_line(timeout);
  co_return IoValue<std::string>{std::move(line.result), std::string(line.value)};
}

asio::awaitable<IoValue<std::string_view>> Connection::read_some(Duration timeout) {
  drop_consumed();
  if (core_->in.empty()) {
    auto r = co_await fill(timeout, raw_chunk);
    if (!r) co_return IoValue<std::string_view>{r, {}};
  }
  co_return IoValue<std::string_view>{{}, std::string_view(core_->in)};
}

void Connection::consume(std::size_t n) {
  core_->in.erase(0, n);
}

std::size_t Connection::input_capacity() const {
  return core_->in.capacity();
}

asio::awaitable<IoResult> Connection::write(std::string_view data, Duration timeout) {
  arm(timeout);
  std::error_code ec;
  if (core_->tls) {
    std::tie(ec, std::ignore) =
        co_await asio::async_write(*core_->tls, asio::buffer(data), use_tuple);
  } else {
    std::tie(ec, std::ignore) =
        co_await asio::async_write(core_->socket, asio::buffer(data), use_tuple);
  }
  disarm();
  co_return describe(ec);
}

asio::awaitable<IoResult> Connection::start_tls_client(asio::ssl::context& context,
                                                       const std::string& sni, Duration timeout) {
  core_->in.clear();
  core_->consumed = 0;
  core_->tls = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(core_->socket, context);
  if (!sni.empty()) SSL_set_tlsext_host_name(core_->tls->native_handle(), sni.c_str());
  arm(timeout);
  auto [ec] = co_await core_->tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
  disarm();
  co_return describe(ec);
}

asio::awaitable<IoResult> Connection::start_tls_server(asio::ssl::context& context,
                                                       Duration timeout) {
  // Anything pipelined behind STARTTLS was sent in clear text and must not
  // be executed inside the TLS session (CVE-2011-0411 and its kin).
  core_->in.clear();
  core_->consumed = 0;
  core_->tls = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(core_->socket, context);
  arm(timeout);
  auto [ec] = co_await core_->tls->async_handshake(asio::ssl::stream_base::server, use_tuple);
  disarm();
  co_return describe(ec);
}

bool Connection::tls_active() const {
  return core_->tls != nullptr;
}
bool Connection::has_buffered_input() const {
  return core_->in.size() > core_->consumed;
}
void Connection::discard_buffered_input() {
  core_->in.clear();
  core_->consumed = 0;
}

asio::awaitable<bool> Connection::input_arrives_within(Duration window) {
  if (has_buffered_input()) co_return true;
  arm(window);
  auto [ec] = co_await core_->socket.async_wait(asio::ip::tcp::socket::wait_read, use_tuple);
  disarm();
  co_return !ec;
}

void Connection::close() {
  if (!core_) return;
  std::error_code ignored;
  core_->timer.cancel();
  if (core_->socket.is_open()) {
    core_->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    core_->socket.close(ignored);
  }
}

bool Connection::is_open() const {
  return core_->socket.is_open();
}

std::string Connection::remote_address() const {
  std::error_code ec;
  auto ep = core_->socket.remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string();
}

std::string Connection::local_address() const {
  std::error_code ec;
  auto ep = core_->socket.local_endpoint(ec);
  return ec ? std::string() : ep.address().to_string();
}

asio::ip::tcp::socket& Connection::socket() {
  return core_->socket;
}

}  // namespace relayscope::net
