// One message to one server, for the relay's outbound delivery and the lab's
// relaying hosts: the whole dialogue on top of SmtpClient, with a per-
// recipient result that says whether a failure is permanent (bounce now) or
// transient (retry later).
#pragma once

#include <asio.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/connection_cache.hpp"
#include "client/smtp_client.hpp"

namespace relayscope::client {

enum class Disposition { delivered, transient, permanent };
const char* to_string(Disposition d);

// The step of the dialogue that gave a recipient its result: the steps up to
// `mail` fail for every recipient at once (no transaction took place), which
// is what lets the caller move on to another MX host.
enum class Stage { connect, greeting, hello, starttls, mail, rcpt, data };

struct RecipientResult {
  std::string recipient;  // bare address, as given
  Disposition disposition = Disposition::transient;
  int code = 0;
  std::string text;  // the server's reply, or our reason ("connection refused")
  Stage stage = Stage::connect;
  std::optional<smtp::Reply> reply;  // the server's reply, when one came
};

struct DeliveryRequest {
  asio::ip::tcp::endpoint server;
  std::string mail_from;                // bare address; empty means the null sender
  std::vector<std::string> recipients;  // bare addresses
  std::string message;                  // the message with CRLF line endings, not stuffed
  // When set, the message is read from here as it is sent instead (of
  // message_size bytes): the relay's spool, in constant memory.
  MessagePieces pieces;
  std::uint64_t message_size = 0;
  asio::ssl::context* tls = nullptr;  // opportunistic STARTTLS when offered and set
  std::string tls_sni;
};

// Never throws; a connection or protocol failure marks every recipient
// transient, a 5xx at MAIL or DATA marks all of them permanent.
asio::awaitable<std::vector<RecipientResult>> deliver(const DeliveryRequest& request,
                                                      const net::ScopeGuard& scope,
                                                      ClientOptions options);

// The two halves of deliver(), for a caller that keeps connections open
// between messages (the relay's connection cache, as Postfix's scache).
//
// open_session: connect, greeting, EHLO (HELO) and opportunistic STARTTLS.
// On failure, `stage` says which step failed.
asio::awaitable<Step> open_session(SmtpClient& c, const DeliveryRequest& request, Stage& stage);

// How a transaction left its connection.
enum class Ending {
  reusable,     // the server answered the message: another transaction may follow
  quit_worthy,  // the server still answers, but the transaction is not over: QUIT it
  broken,       // no reply, or 421: close it
};

struct Transaction {
  std::vector<RecipientResult> results;
  Ending ending = Ending::broken;
  // The server answered MAIL with nothing or with 421: on a connection
  // taken from a cache, it had closed it while idle, and the message
  // goes on a new connection instead (no transaction took place).
  bool lost_at_mail = false;
};

// MAIL, RCPT... and DATA on a session open_session() opened (or an earlier
// transaction left reusable). With PIPELINING offered, MAIL, every RCPT and
// DATA go in one write (RFC 2920) and their replies are read in order.
asio::awaitable<Transaction> transact(SmtpClient& c, const DeliveryRequest& request);

// deliver() over a connection cache: a connection waiting there for the
// same server (and TLS wish) carries the message, or a new one when none
// waits or the one taken was closed while idle; afterwards the connection
// waits there for the next message if its transaction ended cleanly. The
// cached connections refer to `scope`: it must outlive the cache.
asio::awaitable<std::vector<RecipientResult>> deliver(const DeliveryRequest& request,
                                                      const net::ScopeGuard& scope,
                                                      const ClientOptions& options,
                                                      ConnectionCache& cache);

}  // namespace relayscope::client
