// The IMC's test message: To, From, Subject "Relay test", and a body naming
// the host, the time and a unique token. The token also rides in the
// Message-ID and, VERP-style, in the envelope sender, so that the collector
// can tie a delivery or a bounce to its probe whichever part survives.
#pragma once

#include <string>

#include "common/expected.hpp"

namespace relayscope::survey {

struct TestMessageFields {
  std::string host_ip;
  std::string host_domain;  // the domain that led to the host
  std::string mx_host;
  std::string mail_from;  // envelope sender as sent (with the token tag)
  std::string rcpt_to;
  std::string token;
  std::string timestamp;  // RFC 5322 date
  std::string helo_name;
  std::string contact;  // --contact; empty: no contact paragraph or header
};

// Checks --contact: one line of printable US-ASCII (it rides in a header),
// at most 400 characters, holding an e-mail address to opt out at. The
// error says what is wrong.
Status check_contact(const std::string& text);

// A fresh random token: 20 lower-case letters and digits (safe in local parts).
inline constexpr std::size_t token_length = 20;  // what new_token() gives
std::string new_token();
// The token of variant `index` of the probe whose token is `probe_token`:
// a hash of the two, spelled as new_token() spells. The same probe token
// gives the same variant tokens, so a greylisting host's retry (which keeps
// the probe's token) sends each variant with the sender and recipient of
// the first try, as greylisters (keyed on client, sender and recipient)
// want before they accept; a random token per try would be greylisted anew.
std::string variant_token(const std::string& probe_token, std::size_t index);

// "user@domain" + token -> "user+TOKEN@domain" (VERP-style tag).
std::string tag_address(const std::string& address, const std::string& token);

// The whole message with CRLF line endings, not dot-stuffed.
std::string build_test_message(const TestMessageFields& f);

// RFC 5322 date-time of now, UTC.
std::string rfc5322_now();
std::string iso8601_now();

}  // namespace relayscope::survey
