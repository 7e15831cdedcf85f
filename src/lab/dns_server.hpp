// The lab's authoritative DNS server on asio: UDP and TCP (RFC 1035 4.2.2
// two-byte length prefix) on one address and port, answering from a Zone
// through answer_query(). One coroutine for UDP, one per TCP connection;
// every buffer bounded, every TCP wait timed (idle timeout), TCP connections
// capped. The zone is shared with the lab, which may add records while it
// runs (guarded by a mutex: queries and additions may come from two threads).
#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "common/expected.hpp"
#include "lab/zone.hpp"

namespace relayscope::lab {

struct DnsServerOptions {
  asio::ip::address address = asio::ip::make_address("127.0.0.1");
  std::uint16_t port = 5353;  // 0: any free port (the same for UDP and TCP)
  std::chrono::milliseconds tcp_idle_timeout{10000};
  std::size_t max_tcp_connections = 256;
};

struct SharedZone {
  std::mutex mutex;
  Zone zone;
};

class DnsServer {
 public:
  // Binds both sockets (errors: address in use, not allowed...) and starts
  // serving on `executor`.
  static Expected<std::shared_ptr<DnsServer>> start(asio::any_io_executor executor,
                                                    std::shared_ptr<SharedZone> zone,
                                                    DnsServerOptions options);
  ~DnsServer();

  asio::ip::udp::endpoint endpoint() const { return udp_endpoint_; }
  // Closes the sockets; running coroutines end at their next wake-up.
  void stop();

  std::uint64_t queries() const { return queries_.load(); }

  DnsServer(asio::any_io_executor executor, std::shared_ptr<SharedZone> zone,
            DnsServerOptions options);  // use start()

 private:
  asio::awaitable<void> serve_udp(std::shared_ptr<DnsServer> self);
  asio::awaitable<void> serve_tcp(std::shared_ptr<DnsServer> self);
  asio::awaitable<void> tcp_session(std::shared_ptr<DnsServer> self, asio::ip::tcp::socket socket);
  std::optional<std::vector<std::uint8_t>> answer(std::span<const std::uint8_t> query, bool tcp);

  asio::any_io_executor executor_;
  std::shared_ptr<SharedZone> zone_;
  DnsServerOptions options_;
  asio::ip::udp::socket udp_;
  asio::ip::tcp::acceptor tcp_;
  asio::ip::udp::endpoint udp_endpoint_;
  std::size_t tcp_connections_ = 0;
  bool stopped_ = false;
  std::atomic<std::uint64_t> queries_{0};
  std::vector<std::weak_ptr<asio::ip::tcp::socket>> sessions_;
};

}  // namespace relayscope::lab
