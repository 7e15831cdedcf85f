// Step 4: one probe, one dialogue (DESIGN.md): connect, greeting, EHLO (HELO
// after a rejected EHLO), MAIL FROM, RCPT TO, DATA with the test message,
// QUIT. The outcome is the first step that failed; 4xx and 5xx are told
// apart by the code kept with it. The transcript keeps every line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <asio.hpp>

#include "client/smtp_client.hpp"
#include "net/scope_guard.hpp"
#include "store/store.hpp"

namespace relayscope::survey {

struct ProbeOptions {
  std::uint16_t port = 25;
  client::ClientOptions client;
  std::string mail_from = "probe@relayscope.invalid";    // tagged with the token
  std::string rcpt_to = "relay-test@relayscope.invalid";  // tagged with the token
  bool send_data = true;     // false: stop after RCPT TO (RSET, QUIT), send no message
  bool mx_fallback = false;  // on CONNECT failure try the higher-numbered MX hosts
  bool variants_all = false; // also try the relay tricks (variants.hpp)
};

struct ProbeTarget {
  std::int64_t host_id = 0;
  std::string ip;
  std::string domain;
  std::string mx_host;
  std::vector<std::string> fallback_ips;
};

// Never throws for network reasons; the result always has an outcome.
// `stop` lets the runner abandon the probe (Ctrl-C): the result then has
// outcome "" and must not be recorded.
asio::awaitable<store::Probe> run_probe(const ProbeTarget& target, const ProbeOptions& options,
                                        const net::ScopeGuard& scope);

}  // namespace relayscope::survey
