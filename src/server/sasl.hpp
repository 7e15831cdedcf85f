// SASL PLAIN (RFC 4616) and LOGIN decoding for AUTH, pure: base64 in, the
// user name and password out, or an error. No I/O; the session drives the
// challenges and the users file checks the password.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace relayscope::server {

struct Credentials {
  std::string user;
  std::string password;
};

// Strict base64 (RFC 4648, padding required); nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

// "authzid NUL authcid NUL passwd", base64-encoded. An authzid other than
// empty or the authcid itself is refused (no proxy authorisation).
Expected<Credentials> decode_plain(std::string_view base64);

}  // namespace relayscope::server
