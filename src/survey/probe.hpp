// Step 4: one probe, one dialogue (DESIGN.md): connect, greeting, EHLO (HELO
// after a rejected EHLO), MAIL FROM, RCPT TO, DATA with the test message,
// QUIT. The outcome is the first step that failed; 4xx and 5xx are told
// apart by the code kept with it. The transcript keeps every line.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/smtp_client.hpp"
#include "net/scope_guard.hpp"
#include "store/store.hpp"
#include "survey/probe_target.hpp"

namespace relayscope::survey {

struct ProbeOptions {
  std::uint16_t port = 25;
  client::ClientOptions client;
  std::string mail_from = "probe@relayscope.invalid";     // tagged with the token
  std::string rcpt_to = "relay-test@relayscope.invalid";  // tagged with the token
  bool send_data = true;      // false: stop after RCPT TO (RSET, QUIT), send no message
  bool mx_fallback = false;   // on CONNECT failure try the higher-numbered MX hosts
  bool variants_all = false;  // also try the relay tricks (variants.hpp)
  // All of a host's time, its variants' reconnections included (--host-timeout).
  std::chrono::milliseconds host_timeout{15 * 60 * 1000};
  // Our addresses (--source, repeatable): each probe binds to one of the
  // destination's family, spread round-robin by host (see source_for). Empty:
  // client.local_address, or the kernel's choice. Not part of the run's
  // stored parameters: they belong to the machine (a --join worker has its own).
  std::vector<asio::ip::address> sources;
  // --contact: an opt-out address and a sentence on what the survey is, in
  // the test message's body and its X-Relayscope-Contact header; empty: none.
  std::string contact;
};

// Asked just before a fallback MX address is tried (--mx-fallback); false
// skips it. The runner answers false while another probe may be connected
// there (address_claims.hpp).
using FallbackGate = std::function<bool(const std::string& ip)>;

// The source address of a probe of host `host_id` to `peer`: among the
// --source addresses of the peer's family, the (host_id mod n)-th, so that
// consecutive hosts take turns and one host (its reconnections and a retry)
// always comes from the same address. None of that family: the options'
// local_address when of the family, else none (the kernel chooses).
std::optional<asio::ip::address> source_for(const ProbeOptions& options, std::int64_t host_id,
                                            const asio::ip::address& peer);

// Never throws for network reasons; the result always has an outcome. Every
// wait in it is bounded by the options' timeouts, so it always ends. When the
// connection failed for a shortage of our own (net::IoError::local: no
// descriptor, no source port), *local_failure is set and the result is not
// the host's: the caller tries the host again later and records nothing.
asio::awaitable<store::Probe> run_probe(const ProbeTarget& target, const ProbeOptions& options,
                                        const net::ScopeGuard& scope,
                                        FallbackGate may_try_fallback = {},
                                        bool* local_failure = nullptr);
// The same, the record on the heap: for callers that keep tens of thousands
// of probes waiting (a frame holding the record whole costs it twice).
asio::awaitable<std::unique_ptr<store::Probe>> probe_host(const ProbeTarget& target,
                                                          const ProbeOptions& options,
                                                          const net::ScopeGuard& scope,
                                                          FallbackGate may_try_fallback = {},
                                                          bool* local_failure = nullptr);

}  // namespace relayscope::survey
