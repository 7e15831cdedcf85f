// One c-ares channel driven by the asio event loop, without threads: the
// sockets c-ares opens are watched with asio (from its socket-state
// callback), one timer follows ares_timeout(). Raw queries in, raw answers
// out; resolver.hpp parses them. Single-threaded: all work runs on the
// executor given at creation (an io_context run by one thread, or a strand).
// At most max_in_flight queries are handed to c-ares at once; the rest wait
// in a FIFO (each entry is one suspended caller, so the caller's own
// concurrency bounds it).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.hpp"
#include "dns/server_spec.hpp"

struct ares_channeldata;

namespace relayscope::dns {

enum class QueryType { a = 1, mx = 15, txt = 16, aaaa = 28 };

// c-ares' status (ARES_SUCCESS, ARES_ENOTFOUND, ...) and the answer bytes
// (empty when no answer came).
struct RawAnswer {
  int ares_status = 0;
  std::vector<unsigned char> data;
};

struct AresLoopConfig {
  std::vector<ServerSpec> servers;  // never empty: the only servers ever asked
  std::chrono::milliseconds timeout{2000};
  int tries = 2;
  std::size_t max_in_flight = 256;
};

class AresLoop : public std::enable_shared_from_this<AresLoop> {
 public:
  static Expected<std::shared_ptr<AresLoop>> create(asio::any_io_executor executor,
                                                    const AresLoopConfig& config);
  ~AresLoop();
  AresLoop(const AresLoop&) = delete;
  AresLoop& operator=(const AresLoop&) = delete;

  // Completes with void(RawAnswer) on the handler's executor, always
  // asynchronously. After shutdown(): ARES_EDESTRUCTION.
  template <class Token>
  auto async_query(std::string name, QueryType type, Token&& token) {
    return asio::async_initiate<Token, void(RawAnswer)>(
        [self = shared_from_this()](auto handler, std::string n, QueryType t) {
          using Handler = std::decay_t<decltype(handler)>;
          auto op = std::make_unique<QueryOp<Handler>>(std::move(handler), self->executor_);
          op->name = std::move(n);
          op->type = t;
          asio::dispatch(self->executor_,
                         [self, op = std::move(op)]() mutable { self->submit(std::move(op)); });
        },
        token, std::move(name), type);
  }

  // Destroys the channel: every pending query completes with
  // ARES_EDESTRUCTION; no socket stays watched. Idempotent.
  void shutdown();

  const asio::any_io_executor& executor() const { return executor_; }
  std::size_t in_flight() const { return in_flight_; }
  std::size_t queued() const { return queue_.size(); }
  std::size_t watched_sockets() const { return watches_.size(); }

 private:
  struct Op {
    virtual ~Op() = default;
    virtual void complete(RawAnswer answer) = 0;
    std::string name;
    QueryType type = QueryType::a;
    AresLoop* loop = nullptr;
  };

  template <class Handler>
  struct QueryOp final : Op {
    QueryOp(Handler h, const asio::any_io_executor& fallback)
        : handler(std::move(h)),
          work(asio::make_work_guard(asio::get_associated_executor(handler, fallback))) {}
    void complete(RawAnswer answer) override {
      auto ex = work.get_executor();
      asio::post(ex, [h = std::move(handler), a = std::move(answer)]() mutable {
        std::move(h)(std::move(a));
      });
      work.reset();
    }
    Handler handler;
    asio::executor_work_guard<asio::associated_executor_t<Handler, asio::any_io_executor>> work;
  };

  struct Watch;

  AresLoop(asio::any_io_executor executor, std::size_t max_in_flight);
  void submit(std::unique_ptr<Op> op);
  void start(std::unique_ptr<Op> op);
  void start_queued();
  void arm(const std::shared_ptr<Watch>& watch);
  void on_ready(int fd, bool write);
  void rearm_timer();
  void forget(int fd);

  static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  static void on_sock_state(void* data, int fd, int readable, int writable);

  asio::any_io_executor executor_;
  asio::steady_timer timer_;
  ares_channeldata* channel_ = nullptr;
  std::map<int, std::shared_ptr<Watch>> watches_;
  std::deque<std::unique_ptr<Op>> queue_;
  std::size_t max_in_flight_;
  std::size_t in_flight_ = 0;
  bool draining_ = false;
};

}  // namespace relayscope::dns
