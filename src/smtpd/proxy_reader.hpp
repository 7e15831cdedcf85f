// The PROXY protocol (v1 and v2) on a listener behind a load balancer: the
// header is read first, before the TLS handshake, the early-talker check and
// the greeting, bounded in size (smtp/proxy_header.hpp) and in time. It is
// read exactly, never a byte of the SMTP stream behind it, so the session's
// checks see the client's own bytes. Accepted only from trusted proxies; a
// missing or malformed header closes the connection; a LOCAL header (a
// health check) keeps the proxy's own address.
#pragma once

#include <chrono>
#include <string>

#include "common/cidr.hpp"
#include "smtpd/session.hpp"
#include "smtpd/stream.hpp"

namespace relayscope::smtpd {

struct ProxySettings {
  CidrSet trusted;  // the peers that may send a header (required)
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // for the whole header
};

// On success `client` holds the passed client address (and `proxy` the
// peer's); on failure `why` says what went wrong (for the log) and the
// caller closes the connection without a word.
asio::awaitable<bool> take_proxy_header(Stream& stream, ClientInfo& client,
                                        const ProxySettings& settings, std::string& why);

}  // namespace relayscope::smtpd
