// See settle.hpp.
#include "server/settle.hpp"

namespace relayscope::server {

Settlement settle(const Outcomes& outcomes, bool expired) {
  using Kind = RecipientOutcome::Kind;
  Settlement s;
  for (const auto& [rcpt, in] : outcomes) {
    auto o = in;
    const char* word = "deferred";
    if (o.kind == Kind::delivered) {
      word = "sent";
    } else if (o.kind == Kind::permanent) {
      word = "bounced";
    } else if (expired) {
      o.kind = Kind::permanent;
      o.status = "5.4.7";
      o.text = "delivery time expired; last error: " + o.text;
      word = "expired";
    } else {
      s.last_error = "<" + rcpt + ">: " + o.text;
    }
    s.words.emplace_back(rcpt, word);
    if (o.kind == Kind::delivered) {
      s.delivered.emplace_back(rcpt, "delivered " + o.relay + " " + o.text);
    } else if (o.kind == Kind::permanent) {
      // Remote-MTA names the host (RFC 3464 2.3.5), without our ":port".
      auto host = o.relay;
      if (host == "maildir") {
        host.clear();
      } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
        host.resize(colon);
      }
      s.failed.push_back(FailedRecipient{rcpt, o.status, o.text, host});
    } else {
      s.retry.push_back(rcpt);
    }
  }
  return s;
}

std::string failed_record(const FailedRecipient& f) {
  return "failed " + f.status + " " + f.diagnostic;
}

}  // namespace relayscope::server
