// The lab's mail hosts on the network: one listening socket per host that
// listens (all but `refused`), each on its own 127.x.y.z address, all on one
// port, accepted by small callbacks (no coroutine or thread per idle host) on
// one executor; each connection becomes a session coroutine. Concurrent
// sessions are capped: at the cap a host stops accepting until one ends, and
// when descriptors run out (EMFILE) it retries a moment later.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/expected.hpp"
#include "common/open_files.hpp"
#include "lab/session.hpp"

namespace relayscope::lab {

using relayscope::raise_open_files_limit;  // common/open_files.hpp

class Listeners : public std::enable_shared_from_this<Listeners> {
 public:
  // Binds every listening host (port 0: the first bind picks a port that all
  // then share). Errors name the address that could not be bound. Nothing is
  // accepted before begin().
  static Expected<std::shared_ptr<Listeners>> start(asio::any_io_executor executor,
                                                    std::shared_ptr<SessionHub> hub,
                                                    std::uint16_t port, std::size_t max_sessions,
                                                    std::uint32_t shard_index = 0,
                                                    std::uint32_t shard_count = 1);
  Listeners(asio::any_io_executor executor, std::shared_ptr<SessionHub> hub,
            std::size_t max_sessions);  // use start()

  void begin();
  std::uint16_t port() const { return port_; }
  std::size_t listening() const { return listeners_.size(); }
  std::size_t active_sessions() const { return active_; }
  std::size_t max_sessions() const { return max_sessions_; }
  std::uint64_t accepted() const { return accepted_; }
  void stop();

 private:
  struct Listener {
    explicit Listener(asio::any_io_executor ex, std::uint32_t h) : acceptor(ex), host(h) {}
    asio::ip::tcp::acceptor acceptor;
    std::uint32_t host;
  };
  void arm(Listener& l);
  void on_accept(Listener& l, const std::error_code& ec, asio::ip::tcp::socket socket);
  void session_ended();

  asio::any_io_executor executor_;
  std::shared_ptr<SessionHub> hub_;
  std::size_t max_sessions_;
  std::uint16_t port_ = 0;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<Listener*> paused_;
  std::size_t active_ = 0;
  std::uint64_t accepted_ = 0;
  bool stopped_ = false;
};

}  // namespace relayscope::lab
