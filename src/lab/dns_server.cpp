// See dns_server.hpp.
#include "lab/dns_server.hpp"

#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include "lab/dns_answer.hpp"

namespace relayscope::lab {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Queries are small; anything longer is not a query we answer.
constexpr std::size_t max_query = 4096;
}  // namespace

DnsServer::DnsServer(asio::any_io_executor executor, std::shared_ptr<SharedZone> zone,
                     DnsServerOptions options)
    : executor_(executor),
      zone_(std::move(zone)),
      options_(options),
      udp_(executor),
      tcp_(executor) {}

DnsServer::~DnsServer() = default;

Expected<std::shared_ptr<DnsServer>> DnsServer::start(asio::any_io_executor executor,
                                                      std::shared_ptr<SharedZone> zone,
                                                      DnsServerOptions options) {
  auto s = std::make_shared<DnsServer>(executor, std::move(zone), options);
  std::string where = options.address.to_string() + ":" + std::to_string(options.port);
  // With port 0 the UDP socket picks the port and TCP must get the same one;
  // another process may hold it on TCP, so try a few.
  for (int attempt = 0;; ++attempt) {
    std::error_code ec;
    s->udp_ = asio::ip::udp::socket(executor);
    s->tcp_ = asio::ip::tcp::acceptor(executor);
    s->udp_.open(options.address.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
    if (!ec) s->udp_.bind({options.address, options.port}, ec);
    if (ec) return make_error("DNS server: cannot bind UDP " + where + ": " + ec.message());
    auto port = s->udp_.local_endpoint().port();
    asio::ip::tcp::endpoint tep(options.address, port);
    s->tcp_.open(tep.protocol(), ec);
    if (!ec) s->tcp_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) s->tcp_.bind(tep, ec);
    if (!ec) s->tcp_.listen(128, ec);
    if (!ec) {
      // A survey sends hundreds of queries in one burst; the default buffer
      // drops some of them while a slow (sanitized) loop catches up. The
      // kernel caps the size at net.core.rmem_max, so failure is harmless.
      std::error_code ignored;
      s->udp_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ignored);
      s->udp_endpoint_ = s->udp_.local_endpoint();
      break;
    }
    if (options.port != 0 || attempt >= 20) {
      return make_error("DNS server: cannot bind TCP " + options.address.to_string() + ":" +
                        std::to_string(port) + ": " + ec.message());
    }
  }
  asio::co_spawn(executor, s->serve_udp(s), asio::detached);
  asio::co_spawn(executor, s->serve_tcp(s), asio::detached);
  return s;
}

void DnsServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  std::error_code ignored;
  udp_.close(ignored);
  tcp_.close(ignored);
  for (auto& w : sessions_) {
    if (auto s = w.lock()) s->close(ignored);
  }
  sessions_.clear();
}

std::optional<std::vector<std::uint8_t>> DnsServer::answer(std::span<const std::uint8_t> query,
                                                           bool tcp) {
  ++queries_;
  std::lock_guard lock(zone_->mutex);
  return answer_query(zone_->zone, query, tcp);
}

asio::awaitable<void> DnsServer::serve_udp(std::shared_ptr<DnsServer> self) {
  (void)self;  // keeps the server alive while the coroutine runs
  std::array<std::uint8_t, max_query> buf;
  asio::ip::udp::endpoint from;
  while (!stopped_) {
    auto [ec, n] = co_await udp_.async_receive_from(asio::buffer(buf), from, use_tuple);
    if (stopped_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
      continue;  // e.g. an ICMP error from an earlier send: keep serving
    }
    auto reply = answer(std::span<const std::uint8_t>(buf.data(), n), false);
    if (!reply) continue;
    auto [sec, sent] = co_await udp_.async_send_to(asio::buffer(*reply), from, use_tuple);
    (void)sec;
    (void)sent;
  }
}

asio::awaitable<void> DnsServer::serve_tcp(std::shared_ptr<DnsServer> self) {
  while (!stopped_) {
    auto [ec, socket] = co_await tcp_.async_accept(use_tuple);
    if (stopped_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
      // Out of descriptors or the like: wait a moment rather than spin.
      asio::steady_timer t(executor_, std::chrono::milliseconds(50));
      co_await t.async_wait(use_tuple);
      continue;
    }
    if (tcp_connections_ >= options_.max_tcp_connections) {
      std::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(executor_, tcp_session(self, std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> DnsServer::tcp_session(std::shared_ptr<DnsServer> self,
                                             asio::ip::tcp::socket socket_in) {
  (void)self;  // keeps the server alive while the session runs
  using namespace asio::experimental::awaitable_operators;
  auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(socket_in));
  ++tcp_connections_;
  // Forget dead sessions now and then so the list stays as small as the live set.
  if (sessions_.size() > 2 * options_.max_tcp_connections) {
    std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
  }
  sessions_.push_back(sock);
  asio::steady_timer timer(executor_);
  std::array<std::uint8_t, 2> len_buf;
  std::vector<std::uint8_t> query;
  for (;;) {
    timer.expires_after(options_.tcp_idle_timeout);
    auto r1 = co_await (asio::async_read(*sock, asio::buffer(len_buf), use_tuple) ||
                        timer.async_wait(use_tuple));
    if (r1.index() != 0 || std::get<0>(std::get<0>(r1))) break;  // idle timeout, EOF, error
    std::size_t len = (static_cast<std::size_t>(len_buf[0]) << 8) | len_buf[1];
    if (len < 12 || len > max_query) break;
    query.resize(len);
    timer.expires_after(options_.tcp_idle_timeout);
    auto r2 = co_await (asio::async_read(*sock, asio::buffer(query), use_tuple) ||
                        timer.async_wait(use_tuple));
    if (r2.index() != 0 || std::get<0>(std::get<0>(r2))) break;
    auto reply = answer(query, true);
    if (!reply) continue;  // a "drop" name: say nothing, as over UDP
    std::array<std::uint8_t, 2> out_len{static_cast<std::uint8_t>(reply->size() >> 8),
                                        static_cast<std::uint8_t>(reply->size() & 255)};
    std::array<asio::const_buffer, 2> bufs{asio::buffer(out_len), asio::buffer(*reply)};
    timer.expires_after(options_.tcp_idle_timeout);
    auto r3 = co_await (asio::async_write(*sock, bufs, use_tuple) || timer.async_wait(use_tuple));
    if (r3.index() != 0 || std::get<0>(std::get<0>(r3))) break;
  }
  std::error_code ignored;
  sock->close(ignored);
  --tcp_connections_;
}

}  // namespace relayscope::lab
