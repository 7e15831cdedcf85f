// How the collector ties an arrival to its probe from the envelope: the
// survey tags its addresses VERP-style ("relay-test+TOKEN@ours" is a test
// message delivered by a relay, "probe+TOKEN@ours" is mail returned to the
// sender: a bounce). A DSN or returned message is a bounce whichever tag it
// came to: some variants send from the recipient's tagged address. When a
// relay rewrote the envelope, the token is sought in the message itself (a
// returned message is read with GMime: see bounce_parser.hpp). Pure. Tokens
// are taken where the survey puts them (the tags and its own headers),
// whether or not the probe is stored yet: a relay may deliver before the
// survey records the probe, and the report decides which arrivals match.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relayscope::collect {

struct Verdict {
  std::string kind;        // "delivery", "bounce", "warning" (a DSN without failure), "unmatched"
  std::string token;       // empty for unmatched
  std::string dsn_action;  // of the first recipient of a DSN ("failed"), else empty
  std::string dsn_status;  // likewise ("5.7.1")
};

// The TOKEN of "base+TOKEN@..." (case-insensitive base), or "".
std::string token_in_local_part(std::string_view address, std::string_view base);

Verdict classify_envelope(const std::string& mail_from, const std::vector<std::string>& rcpts,
                          std::string_view message, const std::string& sender_local_part,
                          const std::string& recipient_local_part);

}  // namespace relayscope::collect
