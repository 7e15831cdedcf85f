// What one connection to a lab host knows and shares between its parts (the
// policy, the sink, the stream wrapper and the scripts): which host, its
// behaviour and timing, a cancellable pacing timer, and a per-session random
// source for jitter and queue ids. Used on the lab's executor only.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstddef>
#include <string>

#include "lab/rng.hpp"
#include "lab/session.hpp"
#include "lab/tricks.hpp"

namespace relayscope::lab {

struct HostContext {
  HostContext(SessionHub& hub, std::size_t host, asio::any_io_executor executor);

  SessionHub& hub;
  std::size_t host;
  Behaviour behaviour;
  HostTiming timing;
  HostIdentity self;
  std::string client_address;  // the peer, as the greylist and Received: name it
  Rng rng;

  // Waits `ms` on the session's timer; false once the lab stops (or the
  // wait is cancelled by stop()).
  asio::awaitable<bool> pause(int ms);
  void cancel() { timer_.cancel(); }
  int jitter();
  std::string next_id();  // a queue id as Postfix prints them
  std::int64_t now_ms() const;

 private:
  asio::steady_timer timer_;
};

}  // namespace relayscope::lab
