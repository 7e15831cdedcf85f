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
#include "smtpd/listener_role.hpp"
#include "smtpd/stream.hpp"

namespace relayscope::smtpd {

class AuthGuard;

struct ClientInfo {
  std::string address;                   // text form of the peer's address
  std::optional<IpAddress> ip;           // parsed (IPv4-mapped IPv6 shown as IPv4)
  std::string local_address;             // our side of the connection
  std::uint64_t session_id = 0;          // for logs
  ListenerRole role = ListenerRole::mx;  // the listener's (set from SessionSettings)
  // The proxy that passed `address` in a PROXY header; empty when the peer
  // is the client itself (no proxy, or a LOCAL header).
  std::string proxy;
};

// What the policy and the sink see of a session.
struct SessionView {
  const ClientInfo& client;
  const std::string& helo;  // printable (escaped), as logged
  bool tls = false;
  const std::string& auth_user;  // empty when not authenticated
  // Set at MAIL FROM for the transaction: `authorised` when the client
  // authenticated or the policy's authorise() granted it (the relay's
  // POP-before-SMTP window); `authorised_user` is who it then speaks for:
  // the AUTH user, else the grant's user (a window granted with --user),
  // empty for a grant without a user (no sender binding).
  std::string_view authorised_user = {};
  bool authorised = false;
  std::size_t recipients = 0;  // recipients accepted so far in this transaction
  std::string_view line{};     // the command line being answered (empty elsewhere)
};

// What SessionPolicy::authorise() grants a client that has not authenticated.
struct Authorisation {
  std::string user;  // empty: authorised without a user (binds no sender)
  std::string how;   // for the log ("POP-before-SMTP window")
};

struct Envelope {
  std::string helo;  // printable (escaped) and bounded: it goes into headers
  bool esmtp = false;
  bool tls = false;
  std::string auth_user;
  // See SessionView: set at each MAIL FROM (the sink sees the transaction's).
  std::string authorised_user;
  bool authorised = false;
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
  // At MAIL FROM, before check_sender, for a client that has not
  // authenticated: another way it is authorised (the relay's POP-before-SMTP
  // windows), or nothing. Asked at each MAIL: a grant can open or close.
  virtual std::optional<Authorisation> authorise(const SessionView& s);
  // At MAIL FROM: a refusal, or nothing.
  virtual std::optional<smtp::Reply> check_sender(const SessionView& s, const smtp::Path& from);
  // At RCPT TO: a refusal, or nothing (accepted).
  virtual std::optional<smtp::Reply> check_recipient(const SessionView& s,
                                                     const smtp::Path& rcpt) = 0;
  // Every reply to a command line passes here before it is sent (`verb` is
  // unknown for a line that did not parse): reply text as policy data, so
  // the lab's hosts can sound like the servers they imitate.
  virtual void shape_reply(const SessionView& s, smtp::Verb verb, smtp::Reply& reply);

  // Hooks for servers that imitate others (the lab); the defaults change
  // nothing. The greeting to send instead of "220 hostname banner": a 554
  // keeps the session open and answers 503 to all but QUIT (RFC 5321 3.1).
  virtual std::optional<smtp::Reply> greeting(const SessionView& s);
  // Before a parsed command's handler runs (its sequence already checked):
  // a refusal to send instead, or nothing.
  virtual std::optional<smtp::Reply> check_command(const SessionView& s, const smtp::Command& c);
  // Before any reply is written (the greeting, intermediate 354/334, and
  // every reply to a command): waits as long as the policy wants (round
  // trips, error sleep). False ends the session.
  virtual asio::awaitable<bool> before_reply(const SessionView& s, const smtp::Reply& reply);
  // After a command's reply: a reply to close the session with, or nothing.
  virtual std::optional<smtp::Reply> close_after(const SessionView& s, const smtp::Reply& reply);
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
  // How long the implicit TLS handshake may take before the greeting.
  std::chrono::milliseconds tls_handshake_timeout{std::chrono::seconds(30)};
  ListenerRole role = ListenerRole::mx;
  // Submission roles: MAIL FROM before AUTH gets 530 5.7.0 (RFC 6409 4.3).
  bool require_auth = false;
  Authenticator* auth = nullptr;    // AUTH offered (under TLS only) when set
  AuthGuard* auth_guard = nullptr;  // failures per address across sessions
  bool lenient_paths = true;        // accept what old clients send (no brackets, trailing dot)
  // Unauthenticated clients that send the message before the 354 are
  // dropped (Postfix smtpd_forbid_unauth_pipelining).
  bool forbid_unauth_pipelining = true;
  // AUTH offered without TLS too (the lab's hosts that imitate old servers).
  bool auth_without_tls = false;
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
