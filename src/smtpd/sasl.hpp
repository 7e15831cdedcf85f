// SASL for AUTH, pure: PLAIN (RFC 4616) and LOGIN as a step-by-step state
// machine. The session starts it with the AUTH argument and feeds it each
// client line; every step says what to send (a 334 challenge), or that the
// credentials are complete, or the reply that ends the exchange. No I/O: the
// session carries the lines and the Authenticator checks the password.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "mail/base64.hpp"
#include "smtp/reply.hpp"

namespace relayscope::smtpd {

struct Credentials {
  std::string user;
  std::string password;
};

// Strict base64 (RFC 4648, padding required): the one in src/mail.
using mail::base64_decode;
using mail::base64_encode;

// "authzid NUL authcid NUL passwd", base64-encoded. An authzid other than
// empty or the authcid itself is refused (no proxy authorisation). The
// refusal is the reply to send.
struct PlainResult {
  std::optional<Credentials> credentials;
  smtp::Reply refusal;  // when !credentials
};
PlainResult decode_plain(std::string_view base64);

class SaslExchange {
 public:
  enum class Kind { challenge, credentials, refused };
  struct Step {
    Kind kind = Kind::refused;
    std::string challenge;    // the 334 text (base64), when kind == challenge
    Credentials credentials;  // when kind == credentials
    smtp::Reply reply;        // when kind == refused (504, 501...)
  };

  // From the AUTH command's argument: "PLAIN [initial]" or "LOGIN [user64]".
  Step start(std::string_view argument);
  // The client's answer to the last challenge ("*" cancels).
  Step respond(std::string_view line);

 private:
  enum class State { idle, plain_response, login_user, login_password, finished };
  Step finish_plain(std::string_view response);
  Step ask_password(std::string_view user64);
  State state_ = State::idle;
  std::string user_;
};

}  // namespace relayscope::smtpd
