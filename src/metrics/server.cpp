// See server.hpp. The accept loop and one coroutine per connection: read
// until the head is complete (parse_request says when), answer, close.
#include "metrics/server.hpp"

#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <charconv>

#include "metrics/http_request.hpp"

namespace relayscope::metrics {

namespace {
using asio::ip::tcp;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
}  // namespace

struct Server::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, Registry& r, ServerOptions o)
      : acceptor(ex), registry(r), options(o) {}
  tcp::acceptor acceptor;
  Registry& registry;
  ServerOptions options;
  bool stopped = false;
  std::size_t active = 0;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);
};

Expected<tcp::endpoint> parse_listen(const std::string& spec) {
  auto colon = spec.rfind(':');
  if (colon == std::string::npos) return make_error("--metrics wants ADDR:PORT: '" + spec + "'");
  auto host = spec.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return make_error("--metrics: not an IP address: '" + host + "'");
  auto port_text = spec.substr(colon + 1);
  unsigned port = 0;
  auto [p, perr] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || perr != std::errc() || p != port_text.data() + port_text.size() ||
      port > 65535) {
    return make_error("--metrics: bad port in '" + spec + "'");
  }
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

asio::awaitable<void> Server::State::accept_loop() {
  auto self = shared_from_this();
  while (!stopped) {
    auto [ec, socket] = co_await acceptor.async_accept(as_tuple);
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) co_return;
      continue;  // EMFILE and the like: the next accept may work
    }
    if (active >= options.max_connections) {
      std::error_code ignored;
      socket.close(ignored);  // a scraper retries; a flood gets nothing
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), self->serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::State::serve(tcp::socket socket) {
  auto self = shared_from_this();
  ++active;
  struct Leave {
    std::size_t& n;
    ~Leave() { --n; }
  } leave{active};
  // One deadline for the whole exchange: when it passes, the socket closes
  // and whatever read or write is pending ends with an error.
  asio::steady_timer watchdog(socket.get_executor());
  watchdog.expires_after(options.timeout);
  auto on_deadline = [&socket](const std::error_code& ec) {
    if (ec) return;  // cancelled: the exchange ended first
    std::error_code ignored;
    socket.close(ignored);
  };
  watchdog.async_wait(on_deadline);

  std::string buffer;
  std::array<char, 2048> chunk{};
  ParseResult parsed;
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), as_tuple);
    if (ec) {
      watchdog.cancel();
      co_return;  // closed, reset or timed out before a full request
    }
    buffer.append(chunk.data(), n);
    parsed = parse_request(buffer);
    if (parsed.status != ParseStatus::incomplete) break;
  }
  auto body = [this] { return registry.expose(); };
  auto bytes = serialize(route(parsed, body));
  auto [wec, written] = co_await asio::async_write(socket, asio::buffer(bytes), as_tuple);
  (void)written;
  std::error_code ignored;
  // A lingering close: stop sending, then read what the client still sends
  // (bounded, and within the deadline) so that closing with unread bytes
  // does not reset the connection before the client has read our answer.
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  for (std::size_t drained = 0; !wec && drained < 65536;) {
    auto [rec, n] = co_await socket.async_read_some(asio::buffer(chunk), as_tuple);
    if (rec) break;
    drained += n;
  }
  socket.close(ignored);
  watchdog.cancel();
}

Expected<std::unique_ptr<Server>> Server::start(asio::any_io_executor executor,
                                                const std::string& listen, Registry& registry,
                                                ServerOptions options) {
  auto ep = parse_listen(listen);
  if (!ep) return ep.error();
  auto st = std::make_shared<State>(executor, registry, options);
  std::error_code ec;
  st->acceptor.open(ep->protocol(), ec);
  if (!ec) st->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st->acceptor.bind(*ep, ec);
  if (!ec) st->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("--metrics: cannot listen on " + listen + ": " + ec.message());
  asio::co_spawn(executor, st->accept_loop(), asio::detached);
  return std::unique_ptr<Server>(new Server(st));
}

Server::Server(std::shared_ptr<State> state) : state_(std::move(state)) {}

Server::~Server() {
  stop();
}

std::string Server::endpoint() const {
  std::error_code ec;
  auto ep = state_->acceptor.local_endpoint(ec);
  if (ec) return {};
  auto a = ep.address().to_string();
  if (ep.address().is_v6()) a = "[" + a + "]";
  return a + ":" + std::to_string(ep.port());
}

void Server::stop() {
  state_->stopped = true;
  std::error_code ignored;
  state_->acceptor.close(ignored);
}

Expected<std::unique_ptr<BackgroundServer>> BackgroundServer::start(const std::string& listen,
                                                                    Registry& registry,
                                                                    ServerOptions options) {
  std::unique_ptr<BackgroundServer> b(new BackgroundServer());
  auto s = Server::start(b->io_.get_executor(), listen, registry, options);
  if (!s) return s.error();
  b->server_ = std::move(*s);
  auto* io = &b->io_;
  b->thread_ = std::thread([io] { io->run(); });
  return b;
}

BackgroundServer::~BackgroundServer() {
  auto* server = server_.get();
  asio::post(io_, [server] { server->stop(); });
  io_.stop();  // exchanges in flight end with the loop: a scrape is retried
  if (thread_.joinable()) thread_.join();
}

std::string BackgroundServer::endpoint() const {
  return server_->endpoint();
}

}  // namespace relayscope::metrics
