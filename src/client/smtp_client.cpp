// See smtp_client.hpp. Each step sends at most one command and reads exactly
// one reply; nothing is written before the greeting has been read whole.
#include "client/smtp_client.hpp"

#include <algorithm>

#include "mail/base64.hpp"
#include "smtp/dot_stuffing.hpp"
#include "smtp/line_fold.hpp"

namespace relayscope::client {

namespace {

Step io_failure(const net::IoResult& r) {
  Step s;
  s.failure = Step::Failure::io;
  s.io_error = r.error;
  s.detail = r.detail.empty() ? net::to_string(r.error) : r.detail;
  return s;
}

}  // namespace

SmtpClient::SmtpClient(asio::any_io_executor executor, const net::ScopeGuard& scope,
                       ClientOptions options, Transcript* transcript,
                       std::chrono::steady_clock::time_point epoch)
    : connection_(std::move(executor), options.max_line),
      scope_(scope),
      own_(std::make_unique<const ClientOptions>(std::move(options))),
      options_(own_.get()),
      local_address_(options_->local_address),
      transcript_(transcript),
      started_(epoch) {}

SmtpClient::SmtpClient(asio::any_io_executor executor, const net::ScopeGuard& scope,
                       const ClientOptions* shared, std::optional<asio::ip::address> local_address,
                       Transcript* transcript, std::chrono::steady_clock::time_point epoch)
    : connection_(std::move(executor), shared->max_line),
      scope_(scope),
      options_(shared),
      local_address_(local_address),
      transcript_(transcript),
      started_(epoch) {}

const std::string& SmtpClient::helo_name() const {
  static const std::string fallback = "relayscope.invalid";
  return options_->helo_name.empty() ? fallback : options_->helo_name;
}

std::int64_t SmtpClient::elapsed_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               started_)
      .count();
}

void SmtpClient::log(char direction, std::string_view text) {
  if (!transcript_) return;
  auto t = elapsed_us();
  if (text.size() <= options_->max_transcript_line) {
    transcript_->add(t, direction, text);
    return;
  }
  std::string line(text.substr(0, options_->max_transcript_line));
  line += "... (" + std::to_string(text.size()) + " bytes)";
  transcript_->add(t, direction, line);
}

asio::awaitable<Step> SmtpClient::connect(const asio::ip::tcp::endpoint& peer) {
  log('*', "connect " + peer.address().to_string() + ":" + std::to_string(peer.port()));
  auto r = co_await connection_.connect(peer, scope_, options_->connect_timeout, local_address_);
  if (!r) {
    log('*', std::string("connect failed: ") + net::to_string(r.error) + " (" + r.detail + ")");
    co_return io_failure(r);
  }
  log('*', "connected from " + connection_.local_address());
  co_return Step{};
}

bool SmtpClient::take_line(smtp::ReplyParser& parser, const net::IoValue<std::string_view>& line,
                           int expect_lo, int expect_hi, Step& s) {
  if (!line) {
    log('*', std::string("read failed: ") + net::to_string(line.result.error));
    s = io_failure(line.result);
    return true;
  }
  log('<', line.value);
  auto parsed = parser.feed_line(line.value);
  if (!parsed) return false;  // a multi-line reply goes on
  if (!*parsed) {
    s.failure = Step::Failure::garbage;
    s.detail = parsed->error().message;
    log('*', "garbage reply: " + s.detail);
    return true;
  }
  s.reply = std::move(parsed->value());
  if (s.reply->code < expect_lo || s.reply->code > expect_hi) s.failure = Step::Failure::negative;
  return true;
}

// What a line says is worked out in take_line, a plain function: only the
// parser, the line and the Step answered live in this frame while it waits.
asio::awaitable<Step> SmtpClient::read_reply(net::Duration timeout, int expect_lo, int expect_hi) {
  smtp::ReplyParser parser(options_->reply_limits);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Step s;
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= net::Duration::zero()) left = net::Duration::zero();
    // A view into the connection's buffer, valid until its next read.
    auto line = co_await connection_.next_line(left);
    if (take_line(parser, line, expect_lo, expect_hi, s)) co_return s;
  }
}

// The command's write and its reply's read in one frame (not send() and
// read_reply() frames below it): this is where a probe waits, seconds at a
// time, and every frame on that path is held by each probe in flight.
asio::awaitable<Step> SmtpClient::send_and_read(std::string_view verb, std::string_view argument,
                                                net::Duration timeout, int expect_lo,
                                                int expect_hi) {
  line_.assign(verb);
  line_ += argument;
  line_ += "\r\n";
  log('>', std::string_view(line_).substr(0, line_.size() - 2));
  Step s;
  {
    auto r = co_await connection_.write(line_, options_->command_timeout);
    // A long command does not keep its buffer for the rest of the dialogue.
    if (line_.capacity() > 1024) std::string().swap(line_);
    if (!r) {
      log('*', std::string("write failed: ") + net::to_string(r.error));
      co_return io_failure(r);
    }
  }
  smtp::ReplyParser parser(options_->reply_limits);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= net::Duration::zero()) left = net::Duration::zero();
    auto line = co_await connection_.next_line(left);
    if (take_line(parser, line, expect_lo, expect_hi, s)) co_return s;
  }
}

asio::awaitable<Step> SmtpClient::greeting() {
  auto s = co_await read_reply(options_->greeting_timeout, 220, 220);
  if (s.reply && !s.reply->lines.empty()) {
    const auto& text = s.reply->lines.front();
    greeting_host_ = text.substr(0, text.find(' '));
  }
  co_return s;
}

asio::awaitable<Step> SmtpClient::ehlo() {
  auto s = co_await send_and_read("EHLO ", helo_name(), options_->command_timeout, 250, 250);
  if (s.ok() && s.reply) {
    auto info = smtp::parse_ehlo(*s.reply);
    starttls_ = info.starttls();
    pipelining_ = info.pipelining();
    if (options_->keep_ehlo_info) ehlo_info_ = std::move(info);
    esmtp_ = true;
  }
  co_return s;
}

// The one-command steps hand back send_and_read's awaitable itself rather
// than awaiting it in a frame of their own: a probe waiting seconds for a
// reply (an error sleep) holds one frame less (~260 bytes each).
asio::awaitable<Step> SmtpClient::helo() {
  return send_and_read("HELO ", helo_name(), options_->command_timeout, 250, 250);
}

asio::awaitable<Step> SmtpClient::hello() {
  auto s = co_await ehlo();
  if (!s.ok() && s.reply) s = co_await helo();
  co_return s;
}

asio::awaitable<Step> SmtpClient::starttls(asio::ssl::context& context, const std::string& sni) {
  auto s = co_await send_and_read("STARTTLS", {}, options_->command_timeout, 220, 220);
  if (!s.ok()) co_return s;
  auto r = co_await connection_.start_tls_client(context, sni, options_->command_timeout);
  if (!r) co_return io_failure(r);
  log('*', "TLS established");
  // RFC 3207: forget what the server said before TLS and ask again.
  ehlo_info_ = {};
  esmtp_ = false;
  starttls_ = false;
  pipelining_ = false;
  co_return co_await ehlo();
}

asio::awaitable<Step> SmtpClient::auth_plain(const std::string& user, const std::string& password) {
  std::string blob;
  blob.push_back('\0');
  blob += user;
  blob.push_back('\0');
  blob += password;
  // The credentials never go into the transcript.
  auto r = co_await connection_.write("AUTH PLAIN " + mail::base64_encode(blob) + "\r\n",
                                      options_->command_timeout);
  log('>', "AUTH PLAIN (credentials not logged)");
  if (!r) co_return io_failure(r);
  co_return co_await read_reply(options_->command_timeout, 235, 235);
}

asio::awaitable<Step> SmtpClient::mail_from(const std::string& path, const std::string& params) {
  if (params.empty()) return send_and_read("MAIL FROM:", path, options_->command_timeout, 250, 250);
  return mail_from_with(path + " " + params);
}

asio::awaitable<Step> SmtpClient::mail_from_with(std::string argument) {
  co_return co_await send_and_read("MAIL FROM:", argument, options_->command_timeout, 250, 250);
}

asio::awaitable<Step> SmtpClient::rcpt_to(const std::string& path) {
  // 251 (user not local; will forward) is as positive as 250.
  return send_and_read("RCPT TO:", path, options_->command_timeout, 250, 251);
}

asio::awaitable<Step> SmtpClient::data_command() {
  return send_and_read("DATA", {}, options_->command_timeout, 354, 354);
}

asio::awaitable<Step> SmtpClient::data(std::string_view message, bool* data_command_refused) {
  if (data_command_refused) *data_command_refused = false;
  auto s = co_await data_command();
  if (!s.ok()) {
    if (data_command_refused) *data_command_refused = true;
    co_return s;
  }
  co_return co_await send_message(message);
}

asio::awaitable<Step> SmtpClient::send_message(std::string_view message) {
  // Lines over 998 octets are folded (Postfix smtp_line_length_limit): a
  // next hop would refuse the whole message for one of them.
  auto body = smtp::dot_stuff(smtp::fold_long_lines(message));
  log('>', "(message: " + std::to_string(body.size()) + " bytes)");
  auto r = co_await connection_.write(body, options_->data_timeout);
  if (!r) co_return io_failure(r);
  co_return co_await read_reply(options_->data_timeout, 250, 250);
}

asio::awaitable<Step> SmtpClient::send_message(const MessagePieces& pieces, std::uint64_t size) {
  smtp::LineFolder folder;
  smtp::DotStuffer stuffer;
  std::uint64_t at = 0;
  for (;;) {
    auto piece = co_await pieces(at);
    if (!piece) {
      // No dot: the server drops what it got and nobody gets half a message.
      connection_.close();
      Step failed;
      failed.failure = Step::Failure::io;
      failed.detail = "cannot read the message to send";
      co_return failed;
    }
    std::string out;
    bool last = piece->empty();
    if (!last) {
      std::string folded;
      folder.feed(*piece, folded);
      stuffer.feed(folded, out);
      at += piece->size();
      // The size known and reached: the dot goes in this piece's write
      // rather than in a write of its own.
      last = size != unknown_size && at >= size;
    }
    if (last) stuffer.finish(out);
    auto r = co_await connection_.write(out, options_->data_timeout);
    if (!r) co_return io_failure(r);
    if (last) break;
  }
  log('>', "(message: " + std::to_string(at) + " bytes, sent in pieces)");
  co_return co_await read_reply(options_->data_timeout, 250, 250);
}

asio::awaitable<Step> SmtpClient::rset() {
  return send_and_read("RSET", {}, options_->command_timeout, 250, 250);
}

asio::awaitable<Step> SmtpClient::quit() {
  return send_and_read("QUIT", {}, options_->command_timeout, 221, 221);
}

// Not a coroutine: the lines are copied into line_ (and logged) at the
// call, so the caller's list need not outlive a suspension.
asio::awaitable<Step> SmtpClient::send_group(std::initializer_list<std::string_view> lines) {
  line_.clear();
  for (auto l : lines) {
    log('>', l);
    line_ += l;
    line_ += "\r\n";
  }
  return write_group();
}

asio::awaitable<Step> SmtpClient::send_group(const std::vector<std::string>& lines) {
  line_.clear();
  for (const auto& l : lines) {
    log('>', l);
    line_ += l;
    line_ += "\r\n";
  }
  return write_group();
}

asio::awaitable<Step> SmtpClient::write_group() {
  auto r = co_await connection_.write(line_, options_->command_timeout);
  if (line_.capacity() > 1024) std::string().swap(line_);
  if (!r) {
    log('*', std::string("write failed: ") + net::to_string(r.error));
    co_return io_failure(r);
  }
  co_return Step{};
}

asio::awaitable<Step> SmtpClient::reply(int expect_lo, int expect_hi) {
  return read_reply(options_->command_timeout, expect_lo, expect_hi);
}

asio::awaitable<Step> SmtpClient::command(const std::string& line, net::Duration timeout) {
  return send_and_read(line, {}, timeout, 200, 399);
}

}  // namespace relayscope::client
