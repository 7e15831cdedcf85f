// The lab's hosts that never hold an SMTP dialogue (what a normal server
// never does): reset at connect, silence, garbage instead of a greeting, a
// greeting line that never ends, a tarpit. Each is a short script on the
// connection, bounded by the hub's limits; the rest of the lab's hosts run
// the one server session (src/smtpd) with the lab's policy.
#pragma once

#include <asio.hpp>
#include <cstddef>
#include <string_view>

#include "lab/host_context.hpp"
#include "net/connection.hpp"

namespace relayscope::lab {

// Whether the behaviour is one of the scripts below (no SMTP session);
// reset_at_connect is done by the caller (smtpd::SocketStream::reset).
bool is_scripted(Behaviour b);

// Runs the behaviour's script to its end on `conn`.
asio::awaitable<void> run_script(HostContext& ctx, net::Connection& conn);

// Non-SMTP lines a garbage host sends (TLS, HTTP, POP3, telnet, SSH...).
std::string_view garbage_text(std::size_t n);

}  // namespace relayscope::lab
