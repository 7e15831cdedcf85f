// See session.hpp. The loop reads one command line (bounded, timed), parses
// it (smtp::parse_command), checks it against the command table and calls the
// row's handler; replies to pipelined commands are gathered and written when
// the client has nothing more buffered or a group ends. Only the loop writes.
#include "server/session.hpp"

#include <spdlog/spdlog.h>

#include <asio/experimental/as_tuple.hpp>

#include "net/connection.hpp"
#include "server/commands.hpp"
#include "server/sasl.hpp"
#include "smtp/command.hpp"
#include "smtp/data_reader.hpp"

namespace relayscope::server {

smtp::Reply make_reply(int code, std::string_view text) {
  smtp::Reply r;
  r.code = code;
  while (true) {
    auto nl = text.find('\n');
    r.lines.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) {
      break;
    }
    text.remove_prefix(nl + 1);
  }
  return r;
}

asio::awaitable<std::optional<smtp::Reply>> SessionPolicy::check_client(const ClientInfo&) {
  co_return std::nullopt;
}

std::optional<smtp::Reply> SessionPolicy::check_sender(const SessionView&, const smtp::Path&) {
  return std::nullopt;
}

namespace {

using smtp::Verb;
using Reply = smtp::Reply;

// What a handler asks of the loop besides sending its reply.
struct Outcome {
  Reply reply;
  bool close = false;
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

class Session {
 public:
  Session(asio::ip::tcp::socket socket, ClientInfo client, const SessionSettings& settings,
          SessionPolicy& policy, MessageSink& sink)
      : conn_(std::move(socket), settings.max_line_length),
        client_(std::move(client)),
        s_(settings),
        policy_(policy),
        sink_(sink) {}

  asio::awaitable<void> run();

 private:
  // Handlers: the synchronous ones return their reply; DATA, STARTTLS and
  // AUTH talk to the client in between and are coroutines.
  Outcome on_ehlo(const smtp::Command& c);
  Outcome on_helo(const smtp::Command& c);
  Outcome on_mail(const smtp::Command& c);
  Outcome on_rcpt(const smtp::Command& c);
  Outcome on_rset(const smtp::Command& c);
  asio::awaitable<Outcome> on_data(const smtp::Command& c);
  asio::awaitable<Outcome> on_starttls(const smtp::Command& c);
  asio::awaitable<Outcome> on_auth(const smtp::Command& c);
  asio::awaitable<Outcome> dispatch(const smtp::Command& c);

  asio::awaitable<bool> flush();
  asio::awaitable<bool> skip_rest_of_line();
  asio::awaitable<bool> send_now(const Reply& r);
  void reset_transaction() {
    env_.mail_from.clear();
    env_.recipients.clear();
    phase_.in_mail = false;
    phase_.has_rcpt = false;
  }
  SessionView view() const {
    return SessionView{client_, env_.helo, conn_.tls_active(), env_.auth_user};
  }
  std::chrono::milliseconds read_timeout() const {
    return phase_.in_mail ? s_.command_timeout : s_.idle_timeout;
  }
  asio::awaitable<std::optional<std::string>> read_auth_line();

  net::Connection conn_;
  ClientInfo client_;
  const SessionSettings& s_;
  SessionPolicy& policy_;
  MessageSink& sink_;
  SessionPhase phase_;
  Envelope env_;
  std::string out_;  // replies gathered for one write
  int errors_ = 0;
  int auth_failures_ = 0;
  std::size_t messages_ = 0;
};

asio::awaitable<bool> Session::skip_rest_of_line() {
  // One deadline for the whole line, so a client trickling an endless line
  // cannot hold the session past the command timeout.
  auto deadline = std::chrono::steady_clock::now() + s_.command_timeout;
  conn_.discard_buffered_input();
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      co_return false;
    }
    auto chunk = co_await conn_.read_some(left);
    if (!chunk) {
      co_return false;
    }
    auto nl = chunk.value.find('\n');
    if (nl != std::string_view::npos) {
      conn_.consume(nl + 1);
      co_return true;
    }
    conn_.consume(chunk.value.size());
  }
}

asio::awaitable<bool> Session::flush() {
  if (out_.empty()) {
    co_return true;
  }
  auto r = co_await conn_.write(out_, s_.command_timeout);
  out_.clear();
  co_return static_cast<bool>(r);
}

asio::awaitable<bool> Session::send_now(const Reply& r) {
  out_ += r.wire();
  bool ok = co_await flush();
  co_return ok;
}

asio::awaitable<void> Session::run() {
  const auto& host = s_.hostname;
  auto refusal = co_await policy_.check_client(client_);
  if (refusal) {
    spdlog::info("session {} client={} refused at connect: {} {}", client_.session_id,
                 client_.address, refusal->code, refusal->text());
    co_await send_now(*refusal);
    co_return;
  }
  // A client that talks before the greeting is a spam engine that does not
  // wait for answers (RFC 5321 4.3.1 says it must).
  std::error_code avail_ec;
  bool early = conn_.socket().available(avail_ec) > 0;
  if (!early && s_.greet_pause.count() > 0) {
    bool arrived = co_await conn_.input_arrives_within(s_.greet_pause);
    early = arrived;
  }
  if (early) {
    spdlog::info("session {} client={} talked before the greeting: refused", client_.session_id,
                 client_.address);
    co_await send_now(make_reply(554, "5.5.0 " + host + " Talking before the greeting: go away"));
    co_return;
  }
  bool greeted = co_await send_now(make_reply(220, host + " " + s_.banner));
  if (!greeted) {
    co_return;
  }

  for (;;) {
    auto line = co_await conn_.read_line(read_timeout());
    if (!line && line.result.error == net::IoError::line_too_long) {
      // Answer at once, then skip the rest of that line (bounded by the
      // command timeout, never buffered) and stay in step with the client.
      ++errors_;
      bool sent = co_await send_now(make_reply(500, "5.5.6 Line too long"));
      if (!sent || errors_ >= s_.max_errors) {
        co_return;
      }
      bool skipped = co_await skip_rest_of_line();
      if (!skipped) {
        co_return;
      }
      continue;
    }
    if (!line) {
      if (line.result.error == net::IoError::timeout) {
        spdlog::info("session {} client={} timeout", client_.session_id, client_.address);
        co_await send_now(make_reply(421, "4.4.2 " + host + " Timeout, closing the connection"));
      }
      co_return;
    }
    auto cmd = smtp::parse_command(line.value, s_.lenient_paths);
    Outcome outcome;
    unsigned flags = ends_group;
    if (!cmd) {
      auto parsed = smtp::parse_reply(cmd.error().message);
      outcome.reply = parsed ? *parsed : make_reply(500, "5.5.2 Syntax error");
    } else {
      const auto& spec = command_spec(cmd->verb);
      flags = spec.flags;
      if (auto bad = check_sequence(spec, phase_)) {
        outcome.reply = *bad;
      } else {
        outcome = co_await dispatch(*cmd);
      }
    }
    if (outcome.reply.code >= 500) {
      ++errors_;
    }
    if (outcome.reply.code != 0) {
      out_ += outcome.reply.wire();
    }
    if (outcome.close) {
      co_await flush();
      co_return;
    }
    // Too many errors: a confused or hostile client (or another protocol
    // spoken at us, the cross-protocol attack); stop listening to it.
    if (errors_ >= s_.max_errors) {
      spdlog::info("session {} client={} too many errors", client_.session_id, client_.address);
      out_ += make_reply(421, "4.7.0 " + host + " Too many errors, closing the connection").wire();
      co_await flush();
      co_return;
    }
    if ((flags & ends_group) || !conn_.has_buffered_input()) {
      bool sent = co_await flush();
      if (!sent) {
        co_return;
      }
    }
  }
}

asio::awaitable<Outcome> Session::dispatch(const smtp::Command& c) {
  switch (c.verb) {
    case Verb::ehlo:
      co_return on_ehlo(c);
    case Verb::helo:
      co_return on_helo(c);
    case Verb::mail:
      co_return on_mail(c);
    case Verb::rcpt:
      co_return on_rcpt(c);
    case Verb::data: {
      auto o = co_await on_data(c);
      co_return o;
    }
    case Verb::rset:
      co_return on_rset(c);
    case Verb::noop:
      co_return Outcome{make_reply(250, "2.0.0 Ok")};
    case Verb::quit:
      co_return Outcome{make_reply(221, "2.0.0 Bye"), true};
    case Verb::vrfy:
      co_return Outcome{make_reply(252, "2.5.2 Cannot VRFY user, but will accept")};
    case Verb::expn:
      co_return Outcome{make_reply(502, "5.5.1 EXPN not available")};
    case Verb::help:
      co_return Outcome{make_reply(214,
                                   "2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT "
                                   "VRFY HELP STARTTLS AUTH")};
    case Verb::starttls: {
      auto o = co_await on_starttls(c);
      co_return o;
    }
    case Verb::auth: {
      auto o = co_await on_auth(c);
      co_return o;
    }
    case Verb::bdat:
      co_return Outcome{make_reply(502, "5.5.1 BDAT not available: use DATA")};
    case Verb::unknown:
      break;
  }
  co_return Outcome{make_reply(500, "5.5.2 Command unrecognized")};
}

Outcome Session::on_ehlo(const smtp::Command& c) {
  reset_transaction();
  phase_.greeted = true;
  env_.helo = c.argument;
  env_.esmtp = true;
  std::string text = s_.hostname + " greets " + c.argument;
  text += "\nPIPELINING\nSIZE " + std::to_string(s_.max_message_size);
  text += "\n8BITMIME\nENHANCEDSTATUSCODES";
  if (s_.tls && !conn_.tls_active()) {
    text += "\nSTARTTLS";
  }
  if (s_.auth && conn_.tls_active()) {
    text += "\nAUTH PLAIN LOGIN";
  }
  return {make_reply(250, text)};
}

Outcome Session::on_helo(const smtp::Command& c) {
  reset_transaction();
  phase_.greeted = true;
  env_.helo = c.argument;
  env_.esmtp = false;
  return {make_reply(250, s_.hostname)};
}

Outcome Session::on_mail(const smtp::Command& c) {
  for (const auto& [key, value] : c.params) {
    if (key == "SIZE") {
      char* end = nullptr;
      auto n = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0') {
        return {make_reply(501, "5.5.4 Bad SIZE parameter")};
      }
      if (n > s_.max_message_size) {
        return {make_reply(
            552, "5.3.4 Message size exceeds the limit of " + std::to_string(s_.max_message_size))};
      }
    } else if (key == "BODY") {
      auto v = upper(value);
      if (v != "7BIT" && v != "8BITMIME") {
        return {make_reply(501, "5.5.4 Bad BODY parameter")};
      }
    } else if (key == "AUTH") {
      // RFC 4954 5: accepted and not trusted.
    } else {
      return {make_reply(555, "5.5.4 Unsupported parameter " + key)};
    }
  }
  if (auto refusal = policy_.check_sender(view(), c.path)) {
    return {*refusal};
  }
  env_.mail_from = c.path.null ? std::string() : c.path.mailbox.wire();
  env_.recipients.clear();
  env_.tls = conn_.tls_active();
  phase_.in_mail = true;
  phase_.has_rcpt = false;
  return {make_reply(250, "2.1.0 Ok")};
}

Outcome Session::on_rcpt(const smtp::Command& c) {
  if (!c.params.empty()) {
    return {make_reply(555, "5.5.4 Unsupported parameter " + c.params.front().first)};
  }
  if (env_.recipients.size() >= s_.max_recipients) {
    return {make_reply(452, "4.5.3 Too many recipients")};
  }
  if (auto refusal = policy_.check_recipient(view(), c.path)) {
    return {*refusal};
  }
  env_.recipients.push_back(c.path.mailbox.wire());
  phase_.has_rcpt = true;
  return {make_reply(250, "2.1.5 Ok")};
}

Outcome Session::on_rset(const smtp::Command&) {
  reset_transaction();
  return {make_reply(250, "2.0.0 Ok")};
}

asio::awaitable<Outcome> Session::on_data(const smtp::Command&) {
  out_ += make_reply(354, "End data with <CR><LF>.<CR><LF>").wire();
  bool sent = co_await flush();
  if (!sent) {
    co_return Outcome{Reply{}, true};
  }
  smtp::DataReader reader(s_.max_message_size);
  std::string message;
  while (!reader.finished()) {
    auto chunk = co_await conn_.read_some(s_.data_timeout);
    if (!chunk) {
      if (chunk.result.error == net::IoError::timeout) {
        co_return Outcome{make_reply(421, "4.4.2 " + s_.hostname + " Timeout in DATA"), true};
      }
      co_return Outcome{Reply{}, true};
    }
    conn_.consume(reader.feed(chunk.value, message));
  }
  Envelope env = env_;
  reset_transaction();
  switch (reader.state()) {
    case smtp::DataReader::State::done:
      break;
    case smtp::DataReader::State::too_big:
      co_return Outcome{make_reply(
          552, "5.3.4 Message too big: the limit is " + std::to_string(s_.max_message_size))};
    case smtp::DataReader::State::bare_line_ending:
      co_return Outcome{make_reply(
          554, "5.6.11 Bare CR or LF in the message: only CRLF ends a line (SMTP smuggling)")};
    default:
      co_return Outcome{make_reply(554, "5.6.0 Line too long in the message")};
  }
  ++messages_;
  auto verdict = co_await sink_.accept(client_, env, std::move(message));
  co_return Outcome{std::move(verdict)};
}

asio::awaitable<Outcome> Session::on_starttls(const smtp::Command&) {
  if (!s_.tls) {
    co_return Outcome{make_reply(502, "5.5.1 STARTTLS not available")};
  }
  if (conn_.tls_active()) {
    co_return Outcome{make_reply(503, "5.5.1 TLS already active")};
  }
  out_ += make_reply(220, "2.0.0 Ready to start TLS").wire();
  bool sent = co_await flush();
  if (!sent) {
    co_return Outcome{Reply{}, true};
  }
  // start_tls_server drops whatever was pipelined behind STARTTLS: it came
  // in clear text and must not be executed inside the TLS session.
  auto r = co_await conn_.start_tls_server(*s_.tls, s_.command_timeout);
  if (!r) {
    spdlog::info("session {} client={} TLS handshake failed: {}", client_.session_id,
                 client_.address, r.detail);
    co_return Outcome{Reply{}, true};
  }
  // RFC 3207 4.2: forget everything learnt before the handshake.
  reset_transaction();
  phase_.greeted = false;
  env_ = Envelope{};
  co_return Outcome{Reply{}};
}

asio::awaitable<std::optional<std::string>> Session::read_auth_line() {
  auto line = co_await conn_.read_line(s_.command_timeout);
  if (!line) {
    co_return std::nullopt;
  }
  co_return std::move(line.value);
}

asio::awaitable<Outcome> Session::on_auth(const smtp::Command& c) {
  if (!s_.auth) {
    co_return Outcome{make_reply(502, "5.5.1 AUTH not available")};
  }
  if (!conn_.tls_active()) {
    co_return Outcome{make_reply(530, "5.7.0 Must issue a STARTTLS command first")};
  }
  if (!env_.auth_user.empty()) {
    co_return Outcome{make_reply(503, "5.5.1 Already authenticated")};
  }
  auto space = c.argument.find(' ');
  auto mechanism = upper(c.argument.substr(0, space));
  std::optional<std::string> initial;
  if (space != std::string::npos) {
    initial = c.argument.substr(space + 1);
  }
  if (mechanism != "PLAIN" && mechanism != "LOGIN") {
    co_return Outcome{make_reply(504, "5.5.4 Unrecognized authentication type")};
  }
  auto cancelled = [](const std::string& s) { return s == "*"; };
  Credentials creds;
  if (mechanism == "PLAIN") {
    std::string response;
    if (initial) {
      response = *initial == "=" ? std::string() : *initial;
    } else {
      bool sent = co_await send_now(make_reply(334, ""));
      if (!sent) {
        co_return Outcome{Reply{}, true};
      }
      auto l = co_await read_auth_line();
      if (!l) {
        co_return Outcome{Reply{}, true};
      }
      response = *l;
    }
    if (cancelled(response)) {
      co_return Outcome{make_reply(501, "5.0.0 Authentication cancelled")};
    }
    auto decoded = decode_plain(response);
    if (!decoded) {
      auto parsed = smtp::parse_reply(decoded.error().message);
      co_return Outcome{parsed ? *parsed : make_reply(501, "5.5.2 Bad AUTH response")};
    }
    creds = std::move(*decoded);
  } else {
    std::string user64;
    if (initial) {
      user64 = *initial;
    } else {
      bool sent = co_await send_now(make_reply(334, "VXNlcm5hbWU6"));
      if (!sent) {
        co_return Outcome{Reply{}, true};
      }
      auto l = co_await read_auth_line();
      if (!l) {
        co_return Outcome{Reply{}, true};
      }
      user64 = *l;
    }
    if (cancelled(user64)) {
      co_return Outcome{make_reply(501, "5.0.0 Authentication cancelled")};
    }
    bool asked = co_await send_now(make_reply(334, "UGFzc3dvcmQ6"));
    if (!asked) {
      co_return Outcome{Reply{}, true};
    }
    auto pass64 = co_await read_auth_line();
    if (!pass64) {
      co_return Outcome{Reply{}, true};
    }
    if (cancelled(*pass64)) {
      co_return Outcome{make_reply(501, "5.0.0 Authentication cancelled")};
    }
    auto user = base64_decode(user64);
    auto pass = base64_decode(*pass64);
    if (!user || !pass || user->empty()) {
      co_return Outcome{make_reply(501, "5.5.2 Cannot decode the AUTH LOGIN response")};
    }
    creds = Credentials{std::move(*user), std::move(*pass)};
  }
  bool ok = co_await s_.auth->verify(creds.user, creds.password);
  if (ok) {
    env_.auth_user = creds.user;
    spdlog::info("session {} client={} authenticated as {}", client_.session_id, client_.address,
                 creds.user);
    co_return Outcome{make_reply(235, "2.7.0 Authentication successful")};
  }
  ++auth_failures_;
  spdlog::warn("session {} client={} AUTH failed for {} ({} of {})", client_.session_id,
               client_.address, creds.user, auth_failures_, s_.max_auth_failures);
  // Slow down guessing: a growing pause on a timer (the loop of other
  // sessions keeps running), then disconnect after too many failures.
  auto delay = s_.auth_failure_delay * (1 << std::min(auth_failures_ - 1, 5));
  if (delay.count() > 0) {
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, delay);
    co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  if (auth_failures_ >= s_.max_auth_failures) {
    out_ += make_reply(535, "5.7.8 Authentication credentials invalid").wire();
    co_return Outcome{make_reply(421, "4.7.0 " + s_.hostname + " Too many AUTH failures"), true};
  }
  co_return Outcome{make_reply(535, "5.7.8 Authentication credentials invalid")};
}

}  // namespace

asio::awaitable<void> run_session(asio::ip::tcp::socket socket, ClientInfo client,
                                  const SessionSettings& settings, SessionPolicy& policy,
                                  MessageSink& sink) {
  Session session(std::move(socket), std::move(client), settings, policy, sink);
  try {
    co_await session.run();
  } catch (const std::exception& e) {
    // Nothing on the network path throws by design; this is the last guard
    // so that one session can never take the server down.
    spdlog::error("session ended by an exception: {}", e.what());
  }
}

}  // namespace relayscope::server
