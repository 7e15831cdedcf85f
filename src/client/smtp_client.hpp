// The SMTP client dialogue, written once: the survey's probe drives it step
// by step to see where a server stops; the relay's outbound delivery and the
// lab's relaying hosts use deliver() on top of it. Every step waits at most
// its timeout, reads multi-line replies whole (however the packets split
// them), never sends before the greeting, and records every line sent and
// received with its time into an optional transcript.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/transcript.hpp"
#include "net/connection.hpp"
#include "net/scope_guard.hpp"
#include "smtp/ehlo.hpp"
#include "smtp/reply.hpp"

namespace relayscope::client {

// A message read in pieces as it is sent (the relay's spool): called with
// the offset of the next piece, it gives that piece, an empty one at the
// end, or an error (the transaction is then abandoned without the dot).
using MessagePieces =
    std::function<asio::awaitable<std::optional<std::string>>(std::uint64_t offset)>;

struct ClientOptions {
  std::string helo_name = "relayscope.invalid";  // never empty, never the target's name
  net::Duration connect_timeout = std::chrono::seconds(30);
  net::Duration greeting_timeout = std::chrono::seconds(60);
  net::Duration command_timeout = std::chrono::seconds(60);
  net::Duration data_timeout = std::chrono::seconds(120);  // for the reply after the final dot
  std::size_t max_line = 4096;
  smtp::ReplyLimits reply_limits{};
  std::optional<asio::ip::address> local_address;  // bind before connecting
  std::size_t max_transcript_line = 512;           // longer lines are cut in the transcript
  // false: ehlo_info() stays empty (only esmtp() and starttls_offered() are
  // kept), which spares each of the survey's probes its server's EHLO list.
  bool keep_ehlo_info = true;
};

// What one step of the dialogue gave. `failure` says why it is not positive.
struct Step {
  enum class Failure { none, io, garbage, negative };
  Failure failure = Failure::none;
  std::optional<smtp::Reply> reply;  // when a whole reply was read
  net::IoError io_error = net::IoError::none;
  std::string detail;

  bool ok() const { return failure == Failure::none; }
  int code() const { return reply ? reply->code : 0; }
};

class SmtpClient {
 public:
  // Transcript times count from `epoch`: a probe passes its own start, so
  // that a reconnection's lines go on from the probe's time, not from 0.
  SmtpClient(asio::any_io_executor executor, const net::ScopeGuard& scope, ClientOptions options,
             Transcript* transcript = nullptr,
             std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now());
  // With options shared by many clients (a survey's run-wide ones, which
  // must outlive the client), not copied into each; `local_address`
  // replaces the options' own.
  SmtpClient(asio::any_io_executor executor, const net::ScopeGuard& scope,
             const ClientOptions* shared, std::optional<asio::ip::address> local_address,
             Transcript* transcript, std::chrono::steady_clock::time_point epoch);
  std::chrono::steady_clock::time_point epoch() const { return started_; }
  // Microseconds since the epoch: for notes a caller adds to the transcript.
  std::int64_t elapsed_us() const;

  asio::awaitable<Step> connect(const asio::ip::tcp::endpoint& peer);
  // Reads the greeting; positive is 220. Waits out slow greetings up to
  // greeting_timeout.
  asio::awaitable<Step> greeting();
  asio::awaitable<Step> ehlo();  // positive is 250; fills ehlo_info()
  asio::awaitable<Step> helo();
  // EHLO, then HELO when the server answered EHLO with a refusal (RFC 5321
  // 3.2: an old server that knows no EHLO); no HELO when the EHLO got no
  // reply at all, since the connection is then unusable.
  asio::awaitable<Step> hello();
  asio::awaitable<Step> starttls(asio::ssl::context& context, const std::string& sni);
  asio::awaitable<Step> auth_plain(const std::string& user, const std::string& password);
  // `path` is sent as given ("<a@b>", or a relay-trick spelling); params
  // follow it after a space when not empty.
  asio::awaitable<Step> mail_from(const std::string& path, const std::string& params = {});
  asio::awaitable<Step> rcpt_to(const std::string& path);
  // DATA, expects 354, sends the dot-stuffed message, reads the final reply.
  // `data_command` tells a DATA-command refusal from a refusal after the dot.
  asio::awaitable<Step> data(std::string_view message, bool* data_command_refused = nullptr);
  // DATA alone; positive is 354.
  asio::awaitable<Step> data_command();
  // After a 354 (DATA sent in a pipelined group, or data_command()): the
  // message, the dot and the final reply. In pieces, each folded, stuffed
  // and sent as it comes (the memory is a piece's, whatever the message's
  // size); with the message's `size` known, the dot goes out with its last
  // piece instead of in a write of its own.
  static constexpr std::uint64_t unknown_size = ~std::uint64_t{0};
  asio::awaitable<Step> send_message(std::string_view message);
  asio::awaitable<Step> send_message(const MessagePieces& pieces,
                                     std::uint64_t size = unknown_size);
  asio::awaitable<Step> rset();
  asio::awaitable<Step> quit();
  // The steps taking a string send it from the caller's object: it must live
  // until the step is done (co_await the step in the same expression).
  // Any command line; positive is 2xx/3xx.
  asio::awaitable<Step> command(const std::string& line, net::Duration timeout);
  // RFC 2920 command pipelining, for servers whose last EHLO reply offered
  // it: send_group() writes several command lines (without their CRLF) in
  // one write, each logged as sent; reply() then reads their replies one by
  // one, in order. A failed write is the Step's io failure. Only commands
  // that RFC 2920 3.1 lets stand anywhere in a group (RSET, MAIL, RCPT), and
  // DATA as the group's last.
  asio::awaitable<Step> send_group(std::initializer_list<std::string_view> lines);
  asio::awaitable<Step> send_group(const std::vector<std::string>& lines);
  asio::awaitable<Step> reply(int expect_lo, int expect_hi);

  const smtp::EhloInfo& ehlo_info() const { return ehlo_info_; }
  bool esmtp() const { return esmtp_; }
  bool starttls_offered() const { return starttls_; }                  // by the last EHLO reply
  bool pipelining_offered() const { return pipelining_; }              // by the last EHLO reply
  const std::string& greeting_host() const { return greeting_host_; }  // first word of the greeting
  net::Connection& connection() { return connection_; }
  void close() { connection_.close(); }

 private:
  // Sends `verb` and `argument` as one line (built in a buffer reused by
  // each command: no allocation per line).
  asio::awaitable<Step> send_and_read(std::string_view verb, std::string_view argument,
                                      net::Duration timeout, int expect_lo, int expect_hi);
  asio::awaitable<Step> mail_from_with(std::string argument);
  asio::awaitable<Step> write_group();  // writes line_ as send_group() filled it
  asio::awaitable<Step> read_reply(net::Duration timeout, int expect_lo, int expect_hi);
  // Feeds a line read (or its failure) to the parser; true with `s` filled
  // when the reply is whole or the read failed.
  bool take_line(smtp::ReplyParser& parser, const net::IoValue<std::string_view>& line,
                 int expect_lo, int expect_hi, Step& s);
  void log(char direction, std::string_view text);

  const std::string& helo_name() const;

  net::Connection connection_;
  const net::ScopeGuard& scope_;
  std::unique_ptr<const ClientOptions> own_;  // when not shared
  const ClientOptions* options_;
  std::optional<asio::ip::address> local_address_;
  Transcript* transcript_;
  std::chrono::steady_clock::time_point started_;
  smtp::EhloInfo ehlo_info_;
  std::string greeting_host_;
  std::string line_;  // the command being sent
  bool esmtp_ = false;
  bool starttls_ = false;
  bool pipelining_ = false;
};

}  // namespace relayscope::client
