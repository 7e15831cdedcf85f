// Blocking work (fsync, SQLite, parsing a stored message) off the event
// loop: run fn() on a thread pool and resume the awaiting coroutine on its
// own executor with the result. With a one-thread pool the jobs run one
// after the other, in order (what a non-thread-safe handle needs).
#pragma once

#include <asio.hpp>
#include <utility>

namespace relayscope::smtpd {

template <class T, class F>
asio::awaitable<T> run_off_loop(asio::thread_pool& pool, F fn) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [&pool](auto handler, F f) {
        auto ex = asio::get_associated_executor(handler);
        asio::post(pool, [f = std::move(f), h = std::move(handler), ex]() mutable {
          T result = f();
          asio::post(ex, [h = std::move(h), r = std::move(result)]() mutable {
            std::move(h)(std::move(r));
          });
        });
      },
      asio::use_awaitable, std::move(fn));
}

}  // namespace relayscope::smtpd
