// See host_context.hpp.
#include "lab/host_context.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <cstdio>

namespace relayscope::lab {

HostContext::HostContext(SessionHub& h, std::size_t index, asio::any_io_executor executor)
    : hub(h),
      host(index),
      behaviour(h.plan->hosts[index].behaviour),
      timing(h.plan->hosts[index].timing),
      rng(h.plan->seed ^ (h.sessions_started++ * 0x9E3779B97F4A7C15ULL), "session"),
      timer_(std::move(executor)) {
  self.domain = h.plan->host_domain(index);
  self.name = h.plan->host_name(index);
  self.ip_literal = "[" + h.plan->host_ip(index) + "]";
}

asio::awaitable<bool> HostContext::pause(int ms) {
  if (ms <= 0) co_return !hub.stopped;
  timer_.expires_after(std::chrono::milliseconds(ms));
  co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  co_return !hub.stopped;
}

int HostContext::jitter() {
  return hub.delays.jitter_ms > 0 ? static_cast<int>(rng.below(hub.delays.jitter_ms + 1)) : 0;
}

std::string HostContext::next_id() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06zX%08llX", host,
                static_cast<unsigned long long>(rng.next() & 0xFFFFFFFFULL));
  return buf;
}

std::int64_t HostContext::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               hub.started)
      .count();
}

}  // namespace relayscope::lab
