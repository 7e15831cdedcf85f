// See session.hpp. This file only wires a connection to its parts; what the
// hosts say and do is in host_policy.cpp, host_sink.cpp, host_stream.cpp and
// scripts.cpp.
#include "lab/session.hpp"

#include "lab/host_context.hpp"
#include "lab/host_policy.hpp"
#include "lab/host_sink.hpp"
#include "lab/host_stream.hpp"
#include "lab/scripts.hpp"
#include "smtpd/socket_stream.hpp"

namespace relayscope::lab {

class Session {
 public:
  Session(std::shared_ptr<SessionHub> hub, std::size_t host, asio::ip::tcp::socket socket)
      : hub_(std::move(hub)),
        socket_(std::move(socket)),
        ctx_(*hub_, host, socket_.get_executor()) {
    std::error_code ec;
    auto peer = socket_.remote_endpoint(ec);
    if (!ec) ctx_.client_address = peer.address().to_string();
    it_ = hub_->live.insert(hub_->live.end(), this);
  }
  ~Session() { hub_->live.erase(it_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void abort() {
    if (stream_) stream_->close();
    if (conn_) conn_->close();
    ctx_.cancel();
  }

  asio::awaitable<void> run() {
    if (ctx_.behaviour == Behaviour::reset_at_connect) {
      smtpd::SocketStream(std::move(socket_)).reset();
      co_return;
    }
    if (is_scripted(ctx_.behaviour)) {
      net::Connection conn(std::move(socket_), hub_->limits.max_line);
      conn_ = &conn;
      co_await run_script(ctx_, conn);
      conn_ = nullptr;
      co_return;
    }
    smtpd::SocketStream socket_stream(std::move(socket_));
    stream_ = &socket_stream;
    HostStream stream(socket_stream, ctx_);
    HostPolicy policy(ctx_, [&socket_stream] { socket_stream.reset(); });
    HostSink sink(ctx_);
    const auto settings = host_settings(ctx_, &policy);
    smtpd::ClientInfo client;
    client.address = ctx_.client_address;
    client.ip = IpAddress::parse(client.address);
    client.session_id = hub_->sessions_started;
    co_await smtpd::run_session(stream, std::move(client), settings, policy, sink);
    stream_ = nullptr;
  }

 private:
  std::shared_ptr<SessionHub> hub_;
  asio::ip::tcp::socket socket_;
  HostContext ctx_;
  smtpd::SocketStream* stream_ = nullptr;
  net::Connection* conn_ = nullptr;
  std::list<Session*>::iterator it_;
};

void SessionHub::stop_all() {
  stopped = true;
  std::vector<Session*> copy(live.begin(), live.end());
  for (auto* s : copy) s->abort();
}

asio::awaitable<void> run_session(std::shared_ptr<SessionHub> hub, std::size_t host,
                                  asio::ip::tcp::socket socket) {
  Session session(hub, host, std::move(socket));
  co_await session.run();
}

}  // namespace relayscope::lab
