// Base64 (RFC 4648, standard alphabet, with padding): AUTH PLAIN/LOGIN on
// both sides of the relay. Decoding is strict (padding required, nothing
// outside the alphabet) since it reads what strangers send.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relayscope::mail {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace relayscope::mail
