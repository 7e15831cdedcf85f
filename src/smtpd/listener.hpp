// Listeners for the one session: bind (as root, before privileges are
// dropped), then accept and start one session coroutine per connection.
// Connections beyond the total limit or the per-address limit get 421 and
// are closed at once (written without blocking, bounded in time). Each bound
// address may carry its own settings (an mx listener waits before the
// greeting; submission and implicit TLS do not), and may speak the PROXY
// protocol (proxy_reader.hpp): then the per-address limit counts the client
// address the proxy passed, once its header is read.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/expected.hpp"
#include "smtpd/proxy_reader.hpp"
#include "smtpd/session.hpp"

namespace relayscope::smtpd {

class Listener {
 public:
  Listener(asio::any_io_executor executor, const SessionSettings& settings, SessionPolicy& policy,
           MessageSink& sink, std::size_t max_connections, std::size_t max_per_ip);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // `address` is an IP literal without brackets; port 0 picks a free one.
  // `settings` and `proxy` (when given) must outlive the listener; with
  // `proxy` every connection starts with a PROXY header from a trusted peer.
  Status bind(const std::string& address, unsigned short port,
              const SessionSettings* settings = nullptr, const ProxySettings* proxy = nullptr);
  void start();
  void stop();
  std::vector<std::string> endpoints() const;  // "ADDR:PORT", "[V6]:PORT"
  std::size_t active() const { return state_->total; }

 private:
  struct State {
    std::unordered_map<std::string, std::size_t> per_ip;
    std::size_t total = 0;
    std::uint64_t next_session = 0;
    bool stopped = false;
  };
  struct Bound {
    std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
    const SessionSettings* settings;
    const ProxySettings* proxy;
  };
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor,
                                    const SessionSettings& settings, const ProxySettings* proxy);

  asio::any_io_executor executor_;
  const SessionSettings& settings_;
  SessionPolicy& policy_;
  MessageSink& sink_;
  std::size_t max_connections_;
  std::size_t max_per_ip_;
  std::vector<Bound> bound_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace relayscope::smtpd
