// One message a lab host passes on (a relayed message, or the DSN of a
// bouncing host): what the sink hands to the outbox (outbox.hpp). Its own
// header so that the hosts' sessions do not depend on the outbox's network
// stack (the lab session fuzzer runs them without one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace relayscope::lab {

struct OutboundJob {
  enum class Kind : std::uint8_t { relay, bounce };
  Kind kind = Kind::relay;
  std::size_t host = 0;   // the host that passes it on
  std::string mail_from;  // bare; "" is the null sender
  std::string recipient;  // bare
  std::string message;    // CRLF line endings, not stuffed
  std::string token;
  std::string trick;
};

}  // namespace relayscope::lab
