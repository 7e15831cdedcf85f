// One connection to a lab host: the one server session (src/smtpd) with the
// host's policy (host_policy.hpp), sink (host_sink.hpp) and stream wrapper
// (host_stream.hpp), or, for hosts that never hold an SMTP dialogue, a short
// script (scripts.hpp). One coroutine per connection, no thread; every wait
// has a timeout, every buffer a limit; a client that stalls is dropped.
// Accepted mail goes to the outbox (relay, bounce) or the ledger (dropped,
// local).
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "lab/ledger.hpp"
#include "lab/outbound_job.hpp"
#include "lab/plan.hpp"

namespace relayscope::lab {

struct SessionLimits {
  std::chrono::milliseconds command_timeout{60000};  // waiting for a command or DATA bytes
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds hold_timeout{120000};  // silent hosts keep a client this long at most
  std::size_t max_line = 2048;
  std::size_t max_message = 1 << 20;
  std::size_t max_recipients = 100;
  std::size_t max_commands = 1000;
  std::size_t max_errors = 20;
  std::size_t endless_cap = 64u << 20;  // endless_line stops after this many bytes
};

class Session;

// What every session of a lab shares. Lives as long as any session (held by
// shared_ptr); used on the lab's executor only.
struct SessionHub {
  std::shared_ptr<const LabPlan> plan;
  std::shared_ptr<Ledger> ledger;
  // Where accepted mail that goes further is handed on: the lab's outbox
  // (lab.cpp); the session fuzzer keeps it in memory.
  std::function<void(OutboundJob)> send_out;
  std::unique_ptr<asio::ssl::context> tls;  // for starttls hosts; may be null
  SessionLimits limits;
  Delays delays;
  TimingProfile timing;  // the profile's [timing]: error sleep, greylisting delay
  // Greylisting hosts' triplets (client, sender, recipient) and when each was
  // first seen. Bounded by the probes the lab receives.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> greylist_first_seen;
  std::chrono::steady_clock::time_point started;
  std::list<Session*> live;  // for stop(): every running session
  std::uint64_t sessions_started = 0;
  bool stopped = false;

  // Closes every running session's connection and cancels its timer.
  void stop_all();
};

// Runs one session to its end on an accepted socket.
asio::awaitable<void> run_session(std::shared_ptr<SessionHub> hub, std::size_t host,
                                  asio::ip::tcp::socket socket);

}  // namespace relayscope::lab
