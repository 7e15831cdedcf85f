// Reads a returned message (an RFC 3464 delivery status notification or any
// other bounce) with GMime: is it a DSN, what it says per recipient, and the
// probe tokens found in the message it returns, whatever that part's
// encoding (base64, quoted-printable, message/rfc822, text/rfc822-headers).
// Pure apart from GMime's one-time, thread-safe initialisation; bounded: only
// the first megabytes of a message are parsed, and only so many parts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace relayscope::collect {

struct DsnRecipient {
  std::string final_recipient;     // address only ("rfc822;" type stripped)
  std::string original_recipient;  // address only, may be empty
  std::string action;              // "failed", "delayed", "delivered", ... (lower case)
  std::string status;              // "5.7.1"
  std::string diagnostic;          // Diagnostic-Code, as given
};

struct BounceInfo {
  bool parsed = false;  // GMime read a message (headers at least)
  bool is_dsn = false;  // multipart/report; report-type=delivery-status (or a delivery-status part)
  std::string reporting_mta;
  std::vector<DsnRecipient> recipients;
  bool returned_message = false;       // a message/rfc822 (or encoded copy) came back
  bool returned_headers_only = false;  // only text/rfc822-headers came back
  // Candidate probe tokens, most telling first, without repeats: from the
  // returned message's X-Relayscope-Token, Message-ID, tagged addresses
  // (To, From, Return-Path, DSN recipients) and its body's "Token:" line.
  std::vector<std::string> tokens;
};

struct TokenSpec {
  std::string sender_local_part = "probe";          // "probe+TOKEN@..."
  std::string recipient_local_part = "relay-test";  // "relay-test+TOKEN@..."
  std::size_t token_length = 20;                    // survey::new_token()
};

// Never fails: what cannot be read is simply not reported.
BounceInfo parse_bounce(std::string_view message, const TokenSpec& spec);

// Tokens written in text (after "X-Relayscope-Token: ", "Token: ", in a
// "Message-ID: <TOKEN@") and in tagged addresses ("base+TOKEN@"). Pure.
std::vector<std::string> tokens_in_text(std::string_view text, const TokenSpec& spec);

}  // namespace relayscope::collect
