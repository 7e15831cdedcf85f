// The spool's file formats, pure (no I/O, no asio: also built for the
// fuzzer): the envelope at the head of each queue file, the .done records of
// finished recipients and the advisory retry state. All are read back from
// disk after a crash, so their readers take anything without harm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace relayscope::server {

struct SpoolEnvelope {
  std::string id;            // set by store()
  std::int64_t arrival = 0;  // unix seconds
  std::string client;        // client address
  std::string helo;
  std::string auth_user;
  std::string mail_from;                // bare; empty is the null sender
  std::vector<std::string> recipients;  // bare, as the client gave them
  // spool_check() of the message, for a message written whole (read back
  // from disk: empty when the file has none, as streamed ones and older
  // spools' files).
  std::string check;
};

// What the queue manager last did with a message (advisory, for listings).
struct RetryState {
  int attempts = 0;
  std::int64_t next_retry = 0;  // unix seconds; 0 when unknown
  std::string last_error;
};

// The envelope as written at the head of a spool file (with the message's
// size, so a file cut short is recognised), and its reader.
std::string format_envelope(const SpoolEnvelope& e, std::size_t message_size);
// Parses a whole spool file; `body_offset` gets where the message starts.
// Errors: not a spool file, envelope incomplete, message size not as written.
Expected<SpoolEnvelope> parse_envelope(std::string_view file, std::size_t& body_offset);
// The same from the head of a file (at least up to the empty line) and the
// whole file's size.
Expected<SpoolEnvelope> parse_envelope_head(std::string_view head, std::uint64_t file_size,
                                            std::size_t& body_offset);
// queue/<id>.done text -> recipient -> result; a last line without its
// newline (cut by a crash) is not a record.
std::map<std::string, std::string> parse_done(std::string_view text);
std::string format_state(const RetryState& s);
RetryState parse_state(std::string_view text);

}  // namespace relayscope::server
