// `--metrics ADDR:PORT`: a tiny HTTP/1.x responder on the caller's
// io_context that answers GET /metrics with a registry's exposition text.
// One request per connection; every wait bounded by a deadline, every
// request by a size; at most `max_connections` at once.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "common/expected.hpp"
#include "metrics/registry.hpp"

namespace relayscope::metrics {

struct ServerOptions {
  std::chrono::milliseconds timeout{5000};  // to read the request and write the answer
  std::size_t max_connections = 32;
};

// "ADDR:PORT" or "[V6]:PORT" to an endpoint (port 0: any free one).
Expected<asio::ip::tcp::endpoint> parse_listen(const std::string& spec);

class Server {
 public:
  // Binds the listener (errors: bad ADDR:PORT, address in use) and serves
  // `registry` on the executor's thread until stop() or destruction.
  static Expected<std::unique_ptr<Server>> start(asio::any_io_executor executor,
                                                 const std::string& listen, Registry& registry,
                                                 ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::string endpoint() const;  // "ADDR:PORT", the real port
  void stop();                   // on the executor's thread

 private:
  struct State;
  explicit Server(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// The same on a thread of its own, for a program whose event loop is not at
// hand (the relay builds its own inside run_relay). The registry is
// thread-safe, so counters updated on other threads are read correctly;
// *_fn series are then called on this thread. Bound on start (as root, if
// started so, before privileges drop); stops and joins on destruction.
class BackgroundServer {
 public:
  static Expected<std::unique_ptr<BackgroundServer>> start(const std::string& listen,
                                                           Registry& registry,
                                                           ServerOptions options = {});
  ~BackgroundServer();
  BackgroundServer(const BackgroundServer&) = delete;
  BackgroundServer& operator=(const BackgroundServer&) = delete;
  std::string endpoint() const;

 private:
  BackgroundServer() = default;
  asio::io_context io_{1};
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

}  // namespace relayscope::metrics
