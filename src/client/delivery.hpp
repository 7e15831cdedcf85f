// One message to one server, for the relay's outbound delivery and the lab's
// relaying hosts: the whole dialogue on top of SmtpClient, with a per-
// recipient result that says whether a failure is permanent (bounce now) or
// transient (retry later).
#pragma once

#include <asio.hpp>
#include <optional>
#include <string>
#include <vector>

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

}  // namespace relayscope::client
