// See listener.hpp.
#include "smtpd/listener.hpp"

#include <spdlog/spdlog.h>

#include <asio/experimental/as_tuple.hpp>

#include "smtpd/socket_stream.hpp"

namespace relayscope::smtpd {

namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Says why and closes, bounded in time so a client that never reads cannot
// keep the socket.
asio::awaitable<void> refuse(asio::ip::tcp::socket socket, std::string text) {
  asio::steady_timer timer(socket.get_executor(), std::chrono::seconds(5));
  timer.async_wait([&socket](const std::error_code& ec) {
    if (!ec) {
      std::error_code ignored;
      socket.close(ignored);
    }
  });
  co_await asio::async_write(socket, asio::buffer(text), use_tuple);
  timer.cancel();
  std::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace

Listener::Listener(asio::any_io_executor executor, const SessionSettings& settings,
                   SessionPolicy& policy, MessageSink& sink, std::size_t max_connections,
                   std::size_t max_per_ip)
    : executor_(executor),
      settings_(settings),
      policy_(policy),
      sink_(sink),
      max_connections_(max_connections),
      max_per_ip_(max_per_ip) {}

Listener::~Listener() {
  stop();
}

Status Listener::bind(const std::string& address, unsigned short port,
                      const SessionSettings* settings, const ProxySettings* proxy) {
  std::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  auto shown = (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" +
               std::to_string(port);
  if (ec) {
    return make_error("bad listen address " + shown);
  }
  asio::ip::tcp::endpoint ep(ip, port);
  auto a = std::make_unique<asio::ip::tcp::acceptor>(executor_);
  a->open(ep.protocol(), ec);
  if (!ec) {
    a->set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec && ip.is_v6()) {
    a->set_option(asio::ip::v6_only(true), ec);
  }
  if (!ec) {
    a->bind(ep, ec);
  }
  if (!ec) {
    a->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return make_error("cannot listen on " + shown + ": " + ec.message());
  }
  bound_.push_back(Bound{std::move(a), settings ? settings : &settings_, proxy});
  return Ok{};
}

void Listener::start() {
  for (auto& b : bound_) {
    asio::co_spawn(executor_, accept_loop(*b.acceptor, *b.settings, b.proxy), asio::detached);
  }
}

void Listener::stop() {
  state_->stopped = true;
  for (auto& b : bound_) {
    std::error_code ignored;
    b.acceptor->close(ignored);
  }
}

std::vector<std::string> Listener::endpoints() const {
  std::vector<std::string> out;
  for (const auto& b : bound_) {
    std::error_code ec;
    auto ep = b.acceptor->local_endpoint(ec);
    if (ec) {
      continue;
    }
    auto addr = ep.address().to_string();
    out.push_back((ep.address().is_v6() ? "[" + addr + "]" : addr) + ":" +
                  std::to_string(ep.port()));
  }
  return out;
}

asio::awaitable<void> Listener::accept_loop(asio::ip::tcp::acceptor& acceptor,
                                            const SessionSettings& settings,
                                            const ProxySettings* proxy) {
  auto state = state_;
  while (!state->stopped) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) {
      if (state->stopped || ec == asio::error::operation_aborted) {
        co_return;
      }
      // EMFILE and the like: pause a little so we do not spin, then go on.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(executor_, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    std::error_code rec;
    auto remote = socket.remote_endpoint(rec);
    if (rec) {
      continue;
    }
    auto address = remote.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    ClientInfo client;
    client.address = address.to_string();
    client.ip = IpAddress::parse(client.address);
    client.local_address = socket.local_endpoint(rec).address().to_string();
    client.session_id = ++state->next_session;
    // Behind a proxy the per-address limit waits for the passed address.
    std::size_t mine = proxy ? 0 : state->per_ip[client.address];
    if (state->total >= max_connections_ || mine >= max_per_ip_) {
      spdlog::info("session {} client={} refused: too many connections ({} from it, {} in all)",
                   client.session_id, client.address, mine, state->total);
      if (!proxy && mine == 0) {
        state->per_ip.erase(client.address);
      }
      asio::co_spawn(executor_,
                     refuse(std::move(socket), "421 4.7.0 " + settings.hostname +
                                                   " Too many connections, try again later\r\n"),
                     asio::detached);
      continue;
    }
    ++state->total;
    if (!proxy) ++state->per_ip[client.address];
    socket.set_option(asio::ip::tcp::no_delay(true), rec);
    spdlog::debug("session {} client={} connected", client.session_id, client.address);
    auto session = [](std::shared_ptr<State> st, asio::ip::tcp::socket s, ClientInfo c,
                      const SessionSettings& config, const ProxySettings* via,
                      std::size_t per_ip_limit, SessionPolicy& policy,
                      MessageSink& sink) -> asio::awaitable<void> {
      auto id = c.session_id;
      SocketStream stream(std::move(s));
      bool admitted = true;
      if (via) {
        std::string why;
        bool passed = co_await take_proxy_header(stream, c, *via, why);
        if (!passed) {
          spdlog::info("session {} client={} closed: {}", id, c.address, why);
          admitted = false;
        } else if (!c.proxy.empty()) {
          spdlog::info("session {} client={} via proxy {}", id, c.address, c.proxy);
        }
        if (admitted && st->per_ip[c.address] >= per_ip_limit) {
          spdlog::info("session {} client={} refused: too many connections ({} from it)", id,
                       c.address, st->per_ip[c.address]);
          std::string busy =
              "421 4.7.0 " + config.hostname + " Too many connections, try again later\r\n";
          co_await stream.write(busy, Clock::now() + std::chrono::seconds(5));
          admitted = false;
        }
      }
      auto peer = c.address;
      if (admitted) {
        if (via) ++st->per_ip[peer];  // counted at accept when direct
        co_await run_session(stream, std::move(c), config, policy, sink);
        auto it = st->per_ip.find(peer);
        if (it != st->per_ip.end() && --it->second == 0) {
          st->per_ip.erase(it);
        }
      } else {
        if (auto it = st->per_ip.find(peer); it != st->per_ip.end() && it->second == 0) {
          st->per_ip.erase(it);
        }
        stream.close();
      }
      --st->total;
      spdlog::debug("session {} client={} closed", id, peer);
    };
    asio::co_spawn(executor_,
                   session(state, std::move(socket), std::move(client), settings, proxy,
                           max_per_ip_, policy_, sink_),
                   asio::detached);
  }
}

}  // namespace relayscope::smtpd
