// See sasl.hpp.
#include "server/sasl.hpp"

#include <array>

#include "mail/base64.hpp"

namespace relayscope::server {

// One base64 for the project (mail/base64.hpp).
std::optional<std::string> base64_decode(std::string_view text) {
  return mail::base64_decode(text);
}

std::string base64_encode(std::string_view bytes) {
  return mail::base64_encode(bytes);
}

Expected<Credentials> decode_plain(std::string_view base64) {
  auto raw = base64_decode(base64);
  if (!raw) return make_error("501 5.5.2 Cannot decode the AUTH PLAIN response");
  auto first = raw->find('\0');
  auto second = first == std::string::npos ? first : raw->find('\0', first + 1);
  if (second == std::string::npos || raw->find('\0', second + 1) != std::string::npos) {
    return make_error("501 5.5.2 AUTH PLAIN wants authzid NUL user NUL password");
  }
  Credentials c;
  auto authzid = raw->substr(0, first);
  c.user = raw->substr(first + 1, second - first - 1);
  c.password = raw->substr(second + 1);
  if (c.user.empty()) return make_error("501 5.5.2 AUTH PLAIN without a user name");
  if (!authzid.empty() && authzid != c.user) {
    return make_error("535 5.7.8 Authorisation identity not allowed");
  }
  return c;
}

}  // namespace relayscope::server
