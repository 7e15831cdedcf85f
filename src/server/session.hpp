// The SMTP server session, shared by the relay and (in time) the collector:
// one C++20 coroutine per connection, one straight loop that reads a command,
// checks it against the command table, lets a handler produce the reply, and
// writes it (only the loop writes). What is accepted (SessionPolicy) and what
// happens to an accepted message (MessageSink) are plugged in, so the relay's
// four rules + spool and the collector's one domain + store are each a small
// class. Every wait has a timeout, every buffer a limit.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/cidr.hpp"
#include "smtp/path.hpp"
#include "smtp/reply.hpp"

namespace relayscope::server {

struct ClientInfo {
  std::string address;           // text form of the peer's address
  std::optional<IpAddress> ip;   // parsed (IPv4-mapped IPv6 shown as IPv4)
  std::string local_address;     // our side of the connection
  std::uint64_t session_id = 0;  // for logs
};

// What the policy and the sink see of a session.
struct SessionView {
  const ClientInfo& client;
  const std::string& helo;
  bool tls = false;
  const std::string& auth_user;  // empty when not authenticated
};

struct Envelope {
  std::string helo;
  bool esmtp = false;
  bool tls = false;
  std::string auth_user;
  std::string mail_from;                // bare address; empty is the null sender
  std::vector<std::string> recipients;  // bare, as the client wrote them
};

class SessionPolicy {
 public:
  virtual ~SessionPolicy() = default;
  // Before the greeting (DNSBL...): a reply to refuse the connection with.
  virtual asio::awaitable<std::optional<smtp::Reply>> check_client(const ClientInfo& client);
  // At MAIL FROM: a refusal, or nothing.
  virtual std::optional<smtp::Reply> check_sender(const SessionView& s, const smtp::Path& from);
  // At RCPT TO: a refusal, or nothing (accepted).
  virtual std::optional<smtp::Reply> check_recipient(const SessionView& s,
                                                     const smtp::Path& rcpt) = 0;
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // A complete message (un-stuffed, CRLF line endings). The reply goes to the
  // client as is: 250 only once the message is kept safely.
  virtual asio::awaitable<smtp::Reply> accept(const ClientInfo& client, const Envelope& envelope,
                                              std::string message) = 0;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Slow checks (argon2id) must not block the caller's thread.
  virtual asio::awaitable<bool> verify(std::string user, std::string password) = 0;
};

struct SessionSettings {
  std::string hostname = "localhost";
  std::string banner = "ESMTP relayscope";
  std::size_t max_message_size = 25 * 1024 * 1024;
  std::size_t max_recipients = 100;
  int max_errors = 20;
  std::size_t max_line_length = 2048;
  int max_auth_failures = 3;
  std::chrono::milliseconds command_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds data_timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds greet_pause{std::chrono::milliseconds(300)};
  std::chrono::milliseconds auth_failure_delay{std::chrono::seconds(1)};  // doubled each time
  asio::ssl::context* tls = nullptr;  // STARTTLS offered when set
  Authenticator* auth = nullptr;      // AUTH offered (under TLS only) when set
  bool lenient_paths = true;          // accept what old clients send (no brackets, trailing dot)
};

// Runs one session to its end; never throws.
asio::awaitable<void> run_session(asio::ip::tcp::socket socket, ClientInfo client,
                                  const SessionSettings& settings, SessionPolicy& policy,
                                  MessageSink& sink);

// A reply from "CODE text" ("250 2.0.0 Ok"); multi-line with '\n' in text.
smtp::Reply make_reply(int code, std::string_view text);

}  // namespace relayscope::server
