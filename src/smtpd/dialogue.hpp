// Dialogue scripts run against a session in memory, for the unit tests and
// the whole-session fuzzer's seeds. A script is lines (as chasquid's .cmy):
//   C: text     the client sends text + CRLF (\r \n \t \\ \xHH escapes);
//               consecutive C: lines are sent together (pipelined)
//   C! text     the same without the CRLF
//   S: prefix   the next whole reply must start with prefix ("250", "554 5.7.1")
//   S: ~        the server closes the connection here
//   # ...       a comment;  "= only NAME" runs the script for that configuration only
// The transcript (everything the server wrote) is returned for golden files.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpd/session.hpp"

namespace relayscope::smtpd {

class MemoryStream;

struct DialogueResult {
  bool ok = true;
  std::string failure;     // the first mismatch, with its script line
  std::string transcript;  // the server's bytes
};

// Decodes the escapes of a C: line.
std::string unescape_client_text(std::string_view text);

// Whether the script is meant for configuration `name` ("= only relay").
bool dialogue_applies(std::string_view script, std::string_view name);

// Runs the script against a fresh session on its own io_context; the whole
// run is bounded by `limit`.
DialogueResult run_dialogue(std::string_view script, const SessionSettings& settings,
                            SessionPolicy& policy, MessageSink& sink,
                            std::chrono::milliseconds limit = std::chrono::seconds(10),
                            const std::function<void(MemoryStream&)>& setup = {});

// Feeds `input` at once, ends the input, runs the session to its end (the
// fuzzer's way); returns what the server wrote.
std::string run_session_on_bytes(std::string_view input, const SessionSettings& settings,
                                 SessionPolicy& policy, MessageSink& sink);

// A sink that keeps messages in memory (tests, fuzzer), bounded by the
// session's own size limit.
class MemorySink final : public MessageSink {
 public:
  asio::awaitable<std::unique_ptr<MessageWriter>> open(const ClientInfo& client,
                                                       const Envelope& envelope) override;
  std::vector<std::string> messages;
  std::vector<Envelope> envelopes;
  std::size_t largest_chunk = 0;
  bool fail_writes = false;
};

}  // namespace relayscope::smtpd
