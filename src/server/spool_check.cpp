// See spool_check.hpp.
#include "server/spool_check.hpp"

#include <sodium.h>

namespace relayscope::server {

std::string spool_check(std::string_view message) {
  // Picks the CPU's fastest BLAKE2b (the portable one is used before);
  // once, thread-safe.
  static const bool ready = sodium_init() >= 0;
  (void)ready;
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size(), nullptr, 0);
  char hex[sizeof hash * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return std::string(hex, sizeof hash * 2);
}

}  // namespace relayscope::server
