// See listeners.hpp.
#include "lab/listeners.hpp"

namespace relayscope::lab {

Listeners::Listeners(asio::any_io_executor executor, std::shared_ptr<SessionHub> hub,
                     std::size_t max_sessions)
    : executor_(std::move(executor)), hub_(std::move(hub)), max_sessions_(max_sessions) {}

Expected<std::shared_ptr<Listeners>> Listeners::start(asio::any_io_executor executor,
                                                      std::shared_ptr<SessionHub> hub,
                                                      std::uint16_t port, std::size_t max_sessions,
                                                      std::uint32_t shard_index,
                                                      std::uint32_t shard_count) {
  auto self = std::make_shared<Listeners>(executor, hub, max_sessions);
  self->port_ = port;
  const auto& plan = *hub->plan;
  self->listeners_.reserve(plan.listener_count());
  for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
    if (!has_listener(plan.hosts[i].behaviour)) continue;
    if (shard_count > 1 && i % shard_count != shard_index) continue;
    auto l = std::make_unique<Listener>(executor, static_cast<std::uint32_t>(i));
    asio::ip::tcp::endpoint ep(asio::ip::address_v4(plan.hosts[i].ip), self->port_);
    std::error_code ec;
    l->acceptor.open(ep.protocol(), ec);
    if (!ec) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) l->acceptor.bind(ep, ec);
    if (!ec) l->acceptor.listen(64, ec);
    if (ec) {
      self->listeners_.clear();
      std::string hint = ec == asio::error::no_descriptors
                             ? " (out of open files: lower --domains or raise ulimit -n)"
                             : "";
      return make_error("cannot listen on " + ep.address().to_string() + ":" +
                        std::to_string(self->port_) + ": " + ec.message() + hint);
    }
    if (self->port_ == 0) self->port_ = l->acceptor.local_endpoint().port();
    self->listeners_.push_back(std::move(l));
  }
  return self;
}

void Listeners::begin() {
  for (auto& l : listeners_) arm(*l);
}

void Listeners::arm(Listener& l) {
  l.acceptor.async_accept(
      [self = shared_from_this(), &l](const std::error_code& ec, asio::ip::tcp::socket socket) {
        self->on_accept(l, ec, std::move(socket));
      });
}

void Listeners::on_accept(Listener& l, const std::error_code& ec, asio::ip::tcp::socket socket) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors or a connection that died in the backlog: try again
    // a moment later rather than spin.
    auto timer = std::make_shared<asio::steady_timer>(executor_, std::chrono::milliseconds(50));
    timer->async_wait([self = shared_from_this(), &l, timer](const std::error_code& e) {
      if (!e && !self->stopped_) self->arm(l);
    });
    return;
  }
  ++accepted_;
  ++active_;
  asio::co_spawn(executor_, run_session(hub_, l.host, std::move(socket)),
                 [self = shared_from_this()](std::exception_ptr) { self->session_ended(); });
  if (active_ < max_sessions_) {
    arm(l);
  } else {
    paused_.push_back(&l);
  }
}

void Listeners::session_ended() {
  --active_;
  while (!stopped_ && !paused_.empty() && active_ < max_sessions_) {
    auto* l = paused_.back();
    paused_.pop_back();
    arm(*l);
  }
}

void Listeners::stop() {
  if (stopped_) return;
  stopped_ = true;
  paused_.clear();
  for (auto& l : listeners_) {
    std::error_code ignored;
    l->acceptor.close(ignored);
  }
}

}  // namespace relayscope::lab
