// See session.hpp. The session is one straight loop: read a command, call its
// handler, which writes the reply the behaviour calls for. Behaviours that
// never reach the loop (silent, garbage, endless, reset) have their own short
// scripts. Relay decisions decode the path first (tricks.hpp), as a careful
// server does; only trick hosts then relay for a spelling.
#include "lab/session.hpp"

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "lab/dsn.hpp"
#include "lab/rng.hpp"
#include "lab/tricks.hpp"
#include "net/connection.hpp"
#include "smtp/command.hpp"
#include "smtp/data_reader.hpp"

namespace relayscope::lab {

namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
using B = Behaviour;

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Behaviours that accept any recipient (an open relay's manners, whatever
// they do later with the message).
bool accepts_any_recipient(B b) {
  switch (b) {
    case B::relay:
    case B::accept_drop:
    case B::bounce:
    case B::data_rejected:
    case B::message_rejected:
    case B::message_tempfail:
    case B::quit_error:
      return true;
    default:
      return false;
  }
}

constexpr const char* garbage_texts[] = {
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not smtp",
    "HTTP/1.1 400 Bad Request",
    "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
    "\xff\xfd\x18\xff\xfd\x20 telnet options",
    "*** what? ***",
    "2500 almost a reply",
    "SSH-2.0-OpenSSH_9.2p1",
};

}  // namespace

class Session {
 public:
  Session(std::shared_ptr<SessionHub> hub, std::size_t host, asio::ip::tcp::socket socket)
      : hub_(std::move(hub)),
        host_(host),
        b_(hub_->plan->hosts[host].behaviour),
        timing_(hub_->plan->hosts[host].timing),
        conn_(std::move(socket), hub_->limits.max_line),
        timer_(conn_.socket().get_executor()),
        rng_(hub_->plan->seed ^ (hub_->sessions_started++ * 0x9E3779B97F4A7C15ULL), "session") {
    self_.domain = hub_->plan->host_domain(host);
    self_.name = hub_->plan->host_name(host);
    self_.ip_literal = "[" + hub_->plan->host_ip(host) + "]";
    it_ = hub_->live.insert(hub_->live.end(), this);
  }
  ~Session() { hub_->live.erase(it_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void abort() {
    conn_.close();
    timer_.cancel();
  }

  asio::awaitable<void> run();

 private:
  struct Rcpt {
    std::string address;  // decoded: where it really goes
    bool local = false;
    std::string trick;
  };

  const SessionLimits& limits() const { return hub_->limits; }
  int jitter() {
    return hub_->delays.jitter_ms > 0 ? static_cast<int>(rng_.below(hub_->delays.jitter_ms + 1))
                                      : 0;
  }
  asio::awaitable<bool> pause(int ms);
  // Before a reply: the profile's delay, the host's round trip and, before
  // a 4xx/5xx (counted for close_after_errors), its error sleep.
  int reply_delay(int code);
  asio::awaitable<void> tarpit();
  // Greylisting (timing.hpp): true while the triplet waits out its delay.
  bool greylisted_now(const std::string& sender, const std::string& recipient);
  asio::awaitable<bool> write_raw(std::string_view bytes);
  asio::awaitable<bool> say(const std::string& text);
  asio::awaitable<bool> say_lines(int code, const std::vector<std::string>& lines);
  void reset_connection();
  void reset_transaction();

  asio::awaitable<void> hold_silent(bool answer_with_garbage);
  asio::awaitable<void> endless();
  asio::awaitable<bool> greet();
  asio::awaitable<void> command_loop();
  asio::awaitable<bool> handle(const std::string& line);
  asio::awaitable<bool> on_ehlo(const std::string& arg);
  asio::awaitable<bool> on_helo(const std::string& arg);
  asio::awaitable<bool> on_starttls();
  asio::awaitable<bool> on_auth(const std::string& arg);
  asio::awaitable<bool> on_mail(const std::string& line);
  asio::awaitable<bool> on_rcpt(const std::string& line);
  asio::awaitable<bool> on_data();
  void dispatch(const std::string& message);
  std::string next_id();
  std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 hub_->started)
        .count();
  }

  std::shared_ptr<SessionHub> hub_;
  std::size_t host_;
  B b_;
  HostTiming timing_;
  net::Connection conn_;
  asio::steady_timer timer_;
  Rng rng_;
  HostIdentity self_;
  std::list<Session*>::iterator it_;

  bool refuse_all_ = false;  // after a 554 greeting: only QUIT
  bool greeted_ = false;
  bool esmtp_ = false;
  std::string helo_;
  bool in_mail_ = false;
  DecodedPath sender_;
  std::vector<Rcpt> rcpts_;
  bool auth_failed_ = false;
  std::size_t errors_ = 0;
  std::size_t rejections_ = 0;  // 4xx/5xx replies sent (close_after_errors)
  std::size_t commands_ = 0;
};

// Throughout this file a co_await is never inside an if condition: its
// result goes to a local first (GCC 12 can corrupt the coroutine frame
// otherwise; see run()).
asio::awaitable<bool> Session::pause(int ms) {
  if (ms <= 0) co_return conn_.is_open();
  timer_.expires_after(std::chrono::milliseconds(ms));
  co_await timer_.async_wait(use_tuple);
  co_return !hub_->stopped && conn_.is_open();
}

asio::awaitable<bool> Session::write_raw(std::string_view bytes) {
  auto r = co_await conn_.write(bytes, limits().write_timeout);
  co_return static_cast<bool>(r);
}

int Session::reply_delay(int code) {
  int ms = hub_->delays.reply_ms + jitter() + timing_.rtt_ms;
  if (code >= 400) {
    ++rejections_;
    ms += hub_->timing.error_sleep_ms;
  }
  return ms;
}

bool Session::greylisted_now(const std::string& sender, const std::string& recipient) {
  if (!timing_.greylist) return false;
  // Postgrey's key: the client's address, the sender, the recipient.
  std::string key = conn_.remote_address();
  key += '\n';
  key += sender;
  key += '\n';
  key += recipient;
  const auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = hub_->greylist_first_seen.try_emplace(std::move(key), now);
  if (fresh) return true;
  return now - it->second < std::chrono::milliseconds(hub_->timing.greylist_delay_ms);
}

asio::awaitable<bool> Session::say(const std::string& text) {
  const int code = text.size() >= 3 && text[0] >= '1' && text[0] <= '5' ? (text[0] - '0') * 100 : 0;
  bool ok1 = co_await pause(reply_delay(code));
  if (!ok1) {
    co_return false;
  }
  std::string out = text + "\r\n";
  co_return co_await write_raw(out);
}

asio::awaitable<bool> Session::say_lines(int code, const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += std::to_string(code) + (i + 1 < lines.size() ? "-" : " ") + lines[i] + "\r\n";
  }
  bool ok2 = co_await pause(reply_delay(code));
  if (!ok2) {
    co_return false;
  }
  co_return co_await write_raw(out);
}

void Session::reset_connection() {
  // Linger 0 then close without shutdown: the kernel sends RST, not FIN.
  std::error_code ignored;
  conn_.socket().set_option(asio::socket_base::linger(true, 0), ignored);
  conn_.socket().close(ignored);
}

void Session::reset_transaction() {
  in_mail_ = false;
  sender_ = {};
  rcpts_.clear();
}

std::string Session::next_id() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06zX%08llX", host_,
                static_cast<unsigned long long>(rng_.next() & 0xFFFFFFFFULL));
  return buf;
}

asio::awaitable<void> Session::run() {
  switch (b_) {
    case B::reset_at_connect: {
      reset_connection();
      co_return;
    }
    case B::no_greeting: {
      co_await hold_silent(false);
      co_return;
    }
    case B::garbage_greeting: {
      co_await hold_silent(true);
      co_return;
    }
    case B::endless_line: {
      co_await endless();
      co_return;
    }
    case B::tarpit: {
      co_await tarpit();
      co_return;
    }
    default:
      break;
  }
  // Awaited outside the condition, on purpose: GCC 12 mislays this
  // coroutine's frame (its `this`) for a co_await inside the condition of an
  // if that follows the switch above.
  bool greeted = co_await greet();
  if (!greeted) {
    co_return;
  }
  co_await command_loop();
}

// Keeps a client waiting (reading what it sends, bounded) until it leaves or
// hold_timeout passes; with `answer_with_garbage`, each line gets garbage.
asio::awaitable<void> Session::hold_silent(bool answer_with_garbage) {
  constexpr std::size_t n_garbage = sizeof garbage_texts / sizeof garbage_texts[0];
  std::size_t next = 0;
  if (answer_with_garbage) {
    bool ok3 = co_await pause(hub_->delays.greeting_ms + jitter());
    if (!ok3) {
      co_return;
    }
    bool ok4 =
        co_await write_raw(std::string(garbage_texts[0]) + "\r\n" + garbage_texts[1] + "\r\n");
    if (!ok4) {
      co_return;
    }
    next = 2;
  }
  auto deadline = net::Clock::now() + limits().hold_timeout;
  for (std::size_t lines = 0; lines < limits().max_commands && !hub_->stopped; ++lines) {
    auto left = deadline - net::Clock::now();
    if (left <= net::Duration::zero()) co_return;
    auto line = co_await conn_.read_line(left);
    if (!line) co_return;
    if (answer_with_garbage) {
      std::string g = std::string(garbage_texts[next++ % n_garbage]) + "\r\n";
      bool ok5 = co_await write_raw(g);
      if (!ok5) {
        co_return;
      }
    }
  }
}

// A greeting line that never ends: "220-" and then bytes, no line ending,
// until the client gives up (its write side stalls: write_timeout), the cap,
// or hold_timeout.
asio::awaitable<void> Session::endless() {
  bool ok6 = co_await pause(hub_->delays.greeting_ms);
  if (!ok6) {
    co_return;
  }
  bool ok7 = co_await write_raw("220-" + self_.name + " ");
  if (!ok7) {
    co_return;
  }
  const std::string chunk(4096, 'x');
  auto deadline = net::Clock::now() + limits().hold_timeout;
  for (std::size_t sent = 0; sent < limits().endless_cap && net::Clock::now() < deadline;
       sent += chunk.size()) {
    bool ok8 = co_await write_raw(chunk);
    if (!ok8) {
      co_return;
    }
    bool ok9 = co_await pause(5);
    if (!ok9) {
      co_return;
    }
  }
}

// A tarpit: "220-" and then one byte per slow_byte_ms, the line never ended,
// until the client leaves or hold_timeout passes. Costs the lab one timer.
asio::awaitable<void> Session::tarpit() {
  bool ok6 = co_await pause(hub_->delays.greeting_ms + timing_.greeting_ms + timing_.rtt_ms);
  if (!ok6) {
    co_return;
  }
  const std::string text = "220-" + self_.name + " please wait while we check you ";
  auto deadline = net::Clock::now() + limits().hold_timeout;
  for (std::size_t i = 0; net::Clock::now() < deadline; ++i) {
    bool ok7 = co_await write_raw(std::string_view(&text[i % text.size()], 1));
    if (!ok7) {
      co_return;
    }
    bool ok8 = co_await pause(hub_->delays.slow_byte_ms);
    if (!ok8) {
      co_return;
    }
  }
}

asio::awaitable<bool> Session::greet() {
  bool ok10 =
      co_await pause(hub_->delays.greeting_ms + jitter() + timing_.greeting_ms + timing_.rtt_ms);
  if (!ok10) {
    co_return false;
  }
  const std::string& name = self_.name;
  switch (b_) {
    case B::greeting_554:
      refuse_all_ = true;
      co_return co_await write_raw("554 5.3.2 " + name + " No SMTP service here\r\n");
    case B::slow_greeting: {
      // Several 220- lines spread over slow_greeting_ms: a client must wait
      // for the last line before it may speak.
      constexpr int parts = 4;
      int step = hub_->delays.slow_greeting_ms / parts;
      bool ok11 = co_await write_raw("220-" + name + " ESMTP relayscope-lab\r\n");
      if (!ok11) {
        co_return false;
      }
      for (int i = 1; i < parts; ++i) {
        bool ok12 = co_await pause(step);
        if (!ok12) {
          co_return false;
        }
        bool ok13 = co_await write_raw("220-please wait (" + std::to_string(i) + ")\r\n");
        if (!ok13) {
          co_return false;
        }
      }
      bool ok14 = co_await pause(step);
      if (!ok14) {
        co_return false;
      }
      co_return co_await write_raw("220 " + name + " ready\r\n");
    }
    case B::slow_bytes: {
      std::string text = "220 " + name + " ESMTP\r\n";
      for (char c : text) {
        bool ok15 = co_await write_raw(std::string_view(&c, 1));
        if (!ok15) {
          co_return false;
        }
        bool ok16 = co_await pause(hub_->delays.slow_byte_ms);
        if (!ok16) {
          co_return false;
        }
      }
      co_return true;
    }
    default:
      co_return co_await write_raw("220 " + name + " ESMTP relayscope-lab\r\n");
  }
}

asio::awaitable<void> Session::command_loop() {
  while (!hub_->stopped) {
    if (commands_ >= limits().max_commands) {
      co_await say("421 4.7.0 " + self_.name + " Too many commands; closing");
      co_return;
    }
    auto line = co_await conn_.read_line(limits().command_timeout);
    if (!line) {
      if (line.result.error == net::IoError::timeout) {
        co_await say("421 4.4.2 " + self_.name + " Timeout waiting for a command; closing");
      } else if (line.result.error == net::IoError::line_too_long) {
        co_await say("500 5.5.2 Line too long; closing");
      }
      co_return;
    }
    ++commands_;
    bool ok17 = co_await handle(line.value);
    if (!ok17) {
      co_return;
    }
    if (timing_.close_after_errors > 0 && rejections_ >= timing_.close_after_errors) {
      co_await say("421 4.7.0 " + self_.name + " Too many errors; closing");
      co_return;
    }
    if (errors_ >= limits().max_errors) {
      co_await say("421 4.7.0 " + self_.name + " Too many errors; closing");
      co_return;
    }
  }
}

asio::awaitable<bool> Session::handle(const std::string& line) {
  const bool is_mail = starts_with_ci(line, "MAIL FROM:");
  const bool is_rcpt = starts_with_ci(line, "RCPT TO:");
  auto parsed = smtp::parse_command(line);
  if (b_ == B::garbage_reply) {
    constexpr std::size_t n = sizeof garbage_texts / sizeof garbage_texts[0];
    bool ok18 = co_await say(garbage_texts[commands_ % n]);
    if (!ok18) {
      co_return false;
    }
    co_return !(parsed && parsed->verb == smtp::Verb::quit);
  }
  if (!parsed && !(is_trick(b_) && (is_mail || is_rcpt))) {
    ++errors_;
    co_return co_await say(parsed.error().message);
  }
  smtp::Verb verb = parsed ? parsed->verb : (is_mail ? smtp::Verb::mail : smtp::Verb::rcpt);
  if (refuse_all_) {
    if (verb == smtp::Verb::quit) {
      co_await say("221 2.0.0 " + self_.name + " Bye");
      co_return false;
    }
    ++errors_;
    co_return co_await say("503 5.5.1 No SMTP service here; QUIT only");
  }
  switch (verb) {
    case smtp::Verb::ehlo:
      co_return co_await on_ehlo(parsed->argument);
    case smtp::Verb::helo:
      co_return co_await on_helo(parsed->argument);
    case smtp::Verb::starttls:
      co_return co_await on_starttls();
    case smtp::Verb::auth:
      co_return co_await on_auth(parsed->argument);
    case smtp::Verb::mail:
      co_return co_await on_mail(line);
    case smtp::Verb::rcpt:
      co_return co_await on_rcpt(line);
    case smtp::Verb::data:
      co_return co_await on_data();
    case smtp::Verb::rset:
      reset_transaction();
      co_return co_await say("250 2.0.0 Ok");
    case smtp::Verb::noop:
      co_return co_await say("250 2.0.0 Ok");
    case smtp::Verb::vrfy:
      co_return co_await say("252 2.0.0 Cannot VRFY user, but will accept message");
    case smtp::Verb::expn:
      co_return co_await say("502 5.5.1 EXPN not available");
    case smtp::Verb::help:
      co_return co_await say("214 2.0.0 relayscope lab host; see RFC 5321");
    case smtp::Verb::bdat:
      co_return co_await say("502 5.5.1 BDAT not supported");
    case smtp::Verb::quit:
      if (b_ == B::quit_error) {
        co_await say("421 4.3.0 " + self_.name + " Error closing transmission channel");
      } else {
        co_await say("221 2.0.0 " + self_.name + " Bye");
      }
      co_return false;
    case smtp::Verb::unknown:
      break;
  }
  ++errors_;
  co_return co_await say("500 5.5.2 Command unrecognized");
}

asio::awaitable<bool> Session::on_ehlo(const std::string& arg) {
  if (b_ == B::helo_only) {
    co_return co_await say("500 5.5.1 Command unrecognized: \"EHLO\"");
  }
  if (arg.empty()) {
    ++errors_;
    co_return co_await say("501 5.5.4 Syntax: EHLO hostname");
  }
  reset_transaction();
  greeted_ = true;
  esmtp_ = true;
  helo_ = arg.substr(0, arg.find(' '));
  std::vector<std::string> lines{self_.name + " Hello " + helo_ + " [" + conn_.remote_address() +
                                 "]"};
  if (b_ == B::thousand_lines) {
    for (int i = 1; i < 999; ++i) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "X-LAB-FILLER-%03d this server talks too much", i);
      lines.emplace_back(buf);
    }
    lines.emplace_back("HELP");
    co_return co_await say_lines(250, lines);
  }
  lines.push_back("SIZE " + std::to_string(limits().max_message));
  lines.emplace_back("8BITMIME");
  if (b_ == B::starttls && hub_->tls && !conn_.tls_active()) lines.emplace_back("STARTTLS");
  if (b_ == B::trick_after_failed_auth) lines.emplace_back("AUTH PLAIN LOGIN");
  lines.emplace_back("HELP");
  co_return co_await say_lines(250, lines);
}

asio::awaitable<bool> Session::on_helo(const std::string& arg) {
  if (arg.empty()) {
    ++errors_;
    co_return co_await say("501 5.5.4 Syntax: HELO hostname");
  }
  reset_transaction();
  greeted_ = true;
  esmtp_ = false;
  helo_ = arg.substr(0, arg.find(' '));
  co_return co_await say("250 " + self_.name);
}

asio::awaitable<bool> Session::on_starttls() {
  if (b_ != B::starttls || !hub_->tls || conn_.tls_active()) {
    co_return co_await say("502 5.5.1 STARTTLS not available");
  }
  bool ok19 = co_await say("220 2.0.0 Ready to start TLS");
  if (!ok19) {
    co_return false;
  }
  auto r = co_await conn_.start_tls_server(*hub_->tls, limits().command_timeout);
  if (!r) co_return false;
  // RFC 3207: the session starts over; the client must greet again.
  greeted_ = false;
  reset_transaction();
  co_return true;
}

asio::awaitable<bool> Session::on_auth(const std::string& arg) {
  if (b_ != B::trick_after_failed_auth) {
    co_return co_await say("502 5.5.1 AUTH not supported");
  }
  if (!greeted_) {
    co_return co_await say("503 5.5.1 Send EHLO first");
  }
  // "AUTH PLAIN" without an initial response: one challenge, one answer.
  if (arg.find(' ') == std::string::npos) {
    bool ok20 = co_await say("334 ");
    if (!ok20) {
      co_return false;
    }
    auto answer = co_await conn_.read_line(limits().command_timeout);
    if (!answer) co_return false;
    if (answer.value == "*") {
      co_return co_await say("501 5.0.0 Authentication cancelled");
    }
  }
  auth_failed_ = true;
  co_return co_await say("535 5.7.8 Authentication credentials invalid");
}

asio::awaitable<bool> Session::on_mail(const std::string& line) {
  if (!greeted_) {
    ++errors_;
    co_return co_await say("503 5.5.1 Send EHLO/HELO first");
  }
  if (in_mail_) {
    ++errors_;
    co_return co_await say("503 5.5.1 Sender already given");
  }
  if (b_ == B::mail_rejected) {
    co_return co_await say("550 5.7.1 Sender rejected by local policy");
  }
  if (b_ == B::reset_mid) {
    reset_connection();
    co_return false;
  }
  auto raw = raw_path_of(line);
  auto decoded = raw ? decode_path(*raw, self_) : std::nullopt;
  if (!decoded) {
    ++errors_;
    co_return co_await say("501 5.1.7 Bad sender address syntax");
  }
  in_mail_ = true;
  sender_ = std::move(*decoded);
  rcpts_.clear();
  co_return co_await say("250 2.1.0 Ok");
}

asio::awaitable<bool> Session::on_rcpt(const std::string& line) {
  if (!in_mail_) {
    ++errors_;
    co_return co_await say("503 5.5.1 Need MAIL before RCPT");
  }
  if (rcpts_.size() >= limits().max_recipients) {
    co_return co_await say("452 4.5.3 Too many recipients");
  }
  auto raw = raw_path_of(line);
  auto decoded = raw ? decode_path(*raw, self_) : std::nullopt;
  if (!decoded || decoded->null) {
    ++errors_;
    co_return co_await say("501 5.1.3 Bad recipient address syntax");
  }
  const std::string shown = "<" + decoded->raw + ">";
  if (greylisted_now(sender_.raw, decoded->raw)) {
    co_return co_await say("450 4.2.0 " + shown +
                           ": Recipient address rejected: Greylisted, try again later");
  }
  if (b_ == B::greylist) {
    co_return co_await say("450 4.7.1 " + shown +
                           ": Recipient address rejected: Greylisted, try again later");
  }
  const bool local = decoded->domain.empty() || self_.is_self(decoded->domain);
  if (local) {
    rcpts_.push_back({decoded->mailbox(), true, {}});
    co_return co_await say("250 2.1.5 Ok");
  }
  if (accepts_any_recipient(b_)) {
    rcpts_.push_back({decoded->mailbox(), false, {}});
    co_return co_await say("250 2.1.5 Ok");
  }
  if (is_trick(b_)) {
    EnvelopeFacts facts{sender_, *decoded, auth_failed_};
    if (trick_relays(b_, facts, self_)) {
      rcpts_.push_back({decoded->mailbox(), false, info(b_).name});
      co_return co_await say("250 2.1.5 Ok");
    }
  }
  co_return co_await say("554 5.7.1 " + shown + ": Relay access denied");
}

asio::awaitable<bool> Session::on_data() {
  if (!in_mail_ || rcpts_.empty()) {
    ++errors_;
    co_return co_await say("554 5.5.1 No valid recipients");
  }
  if (b_ == B::data_rejected) {
    reset_transaction();
    co_return co_await say("554 5.5.1 DATA not accepted here");
  }
  bool ok21 = co_await say("354 End data with <CR><LF>.<CR><LF>");
  if (!ok21) {
    co_return false;
  }
  smtp::DataReader reader(limits().max_message);
  std::string message;
  while (!reader.finished()) {
    auto chunk = co_await conn_.read_some(limits().command_timeout);
    if (!chunk) co_return false;
    auto used = reader.feed(chunk.value, message);
    conn_.consume(used);
    if (used == 0 && !reader.finished()) co_return false;  // no progress: give up
  }
  switch (reader.state()) {
    case smtp::DataReader::State::too_big:
      reset_transaction();
      co_return co_await say("552 5.3.4 Message size exceeds fixed limit");
    case smtp::DataReader::State::bare_line_ending:
      reset_transaction();
      co_return co_await say("550 5.6.0 Bare CR or LF in message");
    case smtp::DataReader::State::line_too_long:
      reset_transaction();
      co_return co_await say("500 5.5.2 Line too long in message");
    default:
      break;
  }
  if (b_ == B::message_rejected) {
    reset_transaction();
    co_return co_await say("554 5.6.0 Message rejected: content refused");
  }
  if (b_ == B::message_tempfail) {
    reset_transaction();
    co_return co_await say("451 4.3.0 Temporary failure in processing; try again later");
  }
  // The host takes responsibility before it says so.
  auto id = next_id();
  dispatch(message);
  reset_transaction();
  co_return co_await say("250 2.0.0 Ok: queued as " + id);
}

void Session::dispatch(const std::string& message) {
  const auto& ledger = hub_->ledger;
  const std::string sender = sender_.null ? std::string() : sender_.mailbox();
  const std::string token = token_of(sender);
  const auto fate = info(b_).fate;
  ledger->record(host_, {EventKind::accepted,
                         token,
                         {},
                         rcpts_.empty() ? "" : rcpts_[0].address,
                         "from <" + sender + ">",
                         now_ms()});
  bool bounced = false;
  for (const auto& r : rcpts_) {
    if (r.local) {
      ledger->record(host_, {EventKind::local, token, {}, r.address, "local mailbox", now_ms()});
      continue;
    }
    ReceivedFields rf{helo_,  conn_.remote_address(), self_.name, next_id(), r.address,
                      esmtp_, std::time(nullptr)};
    std::string with_trace = received_header(rf) + message;
    if (b_ == B::relay || is_trick(b_)) {
      OutboundJob job;
      job.kind = OutboundJob::Kind::relay;
      job.host = host_;
      // An unqualified sender is qualified with the host's name, as MTAs do.
      job.mail_from = sender.empty() || sender.find('@') != std::string::npos
                          ? sender
                          : sender + "@" + self_.name;
      job.recipient = r.address;
      job.message = std::move(with_trace);
      job.token = token;
      job.trick = r.trick;
      hub_->outbox->submit(std::move(job));
    } else if (fate == Fate::bounced && !bounced) {
      bounced = true;
      if (sender.empty()) {
        ledger->record(
            host_,
            {EventKind::dropped, token, {}, r.address, "null sender: no bounce is sent", now_ms()});
        continue;
      }
      DsnFields d;
      d.reporting_mta = self_.name;
      d.postmaster = "MAILER-DAEMON@" + self_.name;
      d.original_sender = sender;
      d.original_recipient = r.address;
      d.final_recipient = r.address;
      d.original_message = with_trace;
      d.boundary = next_id() + "/" + self_.name;
      d.message_id = "<" + next_id() + ".dsn@" + self_.name + ">";
      d.when = std::time(nullptr);
      OutboundJob job;
      job.kind = OutboundJob::Kind::bounce;
      job.host = host_;
      job.mail_from = "";
      job.recipient = sender;
      job.message = build_dsn(d);
      job.token = token;
      hub_->outbox->submit(std::move(job));
    } else if (fate != Fate::bounced) {
      ledger->record(host_,
                     {EventKind::dropped, token, {}, r.address, "accepted and dropped", now_ms()});
    }
  }
}

void SessionHub::stop_all() {
  stopped = true;
  std::vector<Session*> copy(live.begin(), live.end());
  for (auto* s : copy) s->abort();
}

asio::awaitable<void> run_session(std::shared_ptr<SessionHub> hub, std::size_t host,
                                  asio::ip::tcp::socket socket) {
  Session session(hub, host, std::move(socket));
  co_await session.run();
}

}  // namespace relayscope::lab
