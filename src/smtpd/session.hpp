// The one SMTP server session of relayscope (the relay, the collector and,
// next, the lab): one C++20 coroutine per connection over any Stream, one
// straight loop that reads a command, checks it against the command table,
// lets the row's handler produce a reply value, and writes it (only the loop
// writes). What is accepted (SessionPolicy) and where an accepted message
// goes (MessageSink, streamed as it arrives) are plugged in. Every wait has
// a deadline, every buffer a limit.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.hpp"
#include "smtp/command.hpp"
#include "smtp/path.hpp"
#include "smtp/reply.hpp"
#include "smtpd/stream.hpp"

namespace relayscope::smtpd {

class AuthGuard;

struct ClientInfo {
  std::string address;           // text form of the peer's address
  std::optional<IpAddress> ip;   // parsed (IPv4-mapped IPv6 shown as IPv4)
  std::string local_address;     // our side of the connection
  std::uint64_t session_id = 0;  // for logs
};

// What the policy and the sink see of a session.
struct SessionView {
  const ClientInfo& client;
  const std::string& helo;  // printable (escaped), as logged
  bool tls = false;
  const std::string& auth_user;  // empty when not authenticated
};

struct Envelope {
  std::string helo;  // printable (escaped) and bounded: it goes into headers
  bool esmtp = false;
  bool tls = false;
  std::string auth_user;
  std::string mail_from;                // bare address; empty is the null sender
  std::vector<std::string> recipients;  // bare, as the client wrote them
};

// A command line answered with 4xx/5xx, as the session is about to send the
// reply (after shape_reply): for the operator's log, nothing else.
struct CommandRefusal {
  std::string_view line;  // as received (its start, when too long)
  smtp::Verb verb;        // unknown for a line that did not parse
  const smtp::Reply& reply;
  std::string_view mail_from;  // the transaction's sender, once MAIL was accepted
  bool in_mail = false;        // a MAIL FROM was accepted
  bool esmtp = false;          // EHLO (not HELO) was said
};

class SessionPolicy {
 public:
  virtual ~SessionPolicy() = default;
  // Before the greeting (DNSBL...): a reply to refuse the connection with.
  virtual asio::awaitable<std::optional<smtp::Reply>> check_client(const ClientInfo& client);
  // Sees the raw MAIL / RCPT line before the parser judges it (the lab's
  // trick hosts answer spellings a parser refuses): a reply ends it there,
  // and a positive one takes the line's address as written.
  virtual std::optional<smtp::Reply> raw_command(const SessionView& s, std::string_view line);
  // At MAIL FROM: a refusal, or nothing.
  virtual std::optional<smtp::Reply> check_sender(const SessionView& s, const smtp::Path& from);
  // At RCPT TO: a refusal, or nothing (accepted).
  virtual std::optional<smtp::Reply> check_recipient(const SessionView& s,
                                                     const smtp::Path& rcpt) = 0;
  // Every reply to a command line passes here before it is sent (`verb` is
  // unknown for a line that did not parse): reply text as policy data, so
  // the lab's hosts can sound like the servers they imitate.
  virtual void shape_reply(const SessionView& s, smtp::Verb verb, smtp::Reply& reply);
  // Every refusal of a command line (syntax errors too), to log; the reply
  // is not changed here.
  virtual void command_refused(const SessionView& s, const CommandRefusal& refusal);
};

// One message on its way to safety: the session streams the un-stuffed
// message (CRLF line endings) in bounded chunks, then commits or aborts.
class MessageWriter {
 public:
  virtual ~MessageWriter() = default;
  // False once the message cannot be kept (the session still reads to the
  // end of DATA, aborts and answers 451).
  virtual asio::awaitable<bool> write(std::string chunk) = 0;
  // The reply to the final dot: 250 only once the message is durable.
  virtual asio::awaitable<smtp::Reply> commit() = 0;
  // Throws away what was written (refused, cut off, or write failed).
  virtual asio::awaitable<void> abort() = 0;
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // At DATA, before the 354: a writer, or nothing (then 451).
  virtual asio::awaitable<std::unique_ptr<MessageWriter>> open(const ClientInfo& client,
                                                               const Envelope& envelope) = 0;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Slow checks (argon2id) must not block the caller's thread; an unknown
  // user must cost what a known one does (hash a dummy).
  virtual asio::awaitable<bool> verify(std::string user, std::string password) = 0;
};

struct SessionSettings {
  std::string hostname = "localhost";
  std::string banner = "ESMTP relayscope";
  std::size_t max_message_size = 25 * 1024 * 1024;
  std::size_t max_recipients = 100;
  std::size_t recipient_overshoot = 1000;  // refused RCPTs past the limit, then 421 (Postfix)
  int max_errors = 20;
  int max_junk = 100;  // NOOP, RSET, VRFY, EXPN, HELP per session, then 421 (Postfix)
  std::size_t max_line_length = 2048;
  int max_auth_failures = 3;
  std::chrono::milliseconds command_timeout{std::chrono::minutes(5)};  // per command line
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds data_timeout{std::chrono::minutes(10)};  // the whole of DATA
  // A plaintext mx listener waits this long before the greeting and refuses
  // a client whose bytes arrive in it; 0 (submission, implicit TLS) skips it.
  std::chrono::milliseconds greet_pause{std::chrono::milliseconds(300)};
  std::chrono::milliseconds auth_failure_delay{std::chrono::seconds(1)};  // doubled each time
  // Every AUTH with credentials is answered this long after they arrived
  // (plus up to auth_jitter), whatever the user and the outcome.
  std::chrono::milliseconds auth_answer_time{std::chrono::milliseconds(1500)};
  std::chrono::milliseconds auth_jitter{std::chrono::milliseconds(100)};
  asio::ssl::context* tls = nullptr;  // STARTTLS offered when set
  bool implicit_tls = false;          // the stream is TLS from the first byte
  Authenticator* auth = nullptr;      // AUTH offered (under TLS only) when set
  AuthGuard* auth_guard = nullptr;    // failures per address across sessions
  bool lenient_paths = true;          // accept what old clients send (no brackets, trailing dot)
  // Unauthenticated clients that send the message before the 354 are
  // dropped (Postfix smtpd_forbid_unauth_pipelining).
  bool forbid_unauth_pipelining = true;
  std::size_t data_chunk = 64 * 1024;  // what the sink is given at a time
};

// Runs one session to its end over `stream`; never throws.
asio::awaitable<void> run_session(Stream& stream, ClientInfo client,
                                  const SessionSettings& settings, SessionPolicy& policy,
                                  MessageSink& sink);
// The same over an accepted socket.
asio::awaitable<void> run_session(asio::ip::tcp::socket socket, ClientInfo client,
                                  const SessionSettings& settings, SessionPolicy& policy,
                                  MessageSink& sink);

using smtp::make_reply;

}  // namespace relayscope::smtpd
