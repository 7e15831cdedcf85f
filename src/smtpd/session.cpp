// See session.hpp. The loop: read one command line (bounded, one deadline
// for the whole line), parse it (smtp::parse_command_or_reply: a refusal is
// a typed reply), check it against the command table, run the row's handler;
// replies to pipelined commands are gathered and written when the client has
// nothing more buffered or a group ends. Only the loop writes.
#include "smtpd/session.hpp"

#include <spdlog/spdlog.h>

#include <asio/experimental/as_tuple.hpp>

#include "smtp/printable.hpp"
#include "smtpd/session_impl.hpp"
#include "smtpd/socket_stream.hpp"

namespace relayscope::smtpd {

asio::awaitable<std::optional<smtp::Reply>> SessionPolicy::check_client(const ClientInfo&) {
  co_return std::nullopt;
}

std::optional<smtp::Reply> SessionPolicy::raw_command(const SessionView&, std::string_view) {
  return std::nullopt;
}

std::optional<Authorisation> SessionPolicy::authorise(const SessionView&) {
  return std::nullopt;
}

std::optional<smtp::Reply> SessionPolicy::check_sender(const SessionView&, const smtp::Path&) {
  return std::nullopt;
}

void SessionPolicy::shape_reply(const SessionView&, smtp::Verb, smtp::Reply&) {}

std::optional<smtp::Reply> SessionPolicy::greeting(const SessionView&) {
  return std::nullopt;
}

std::optional<smtp::Reply> SessionPolicy::check_command(const SessionView&, const smtp::Command&) {
  return std::nullopt;
}

asio::awaitable<bool> SessionPolicy::before_reply(const SessionView&, const smtp::Reply&) {
  co_return true;
}

std::optional<smtp::Reply> SessionPolicy::close_after(const SessionView&, const smtp::Reply&) {
  return std::nullopt;
}

void SessionPolicy::command_refused(const SessionView&, const CommandRefusal&) {}

namespace detail {

void Session::log_info(std::string_view what) const {
  spdlog::info("session {} client={} {}", client_.session_id, client_.address, what);
}

asio::awaitable<net::IoResult> Session::fill(Deadline deadline) {
  // Small while the client sends commands, larger while it sends a message
  // (InputBuffer::read_size).
  auto room = in_.prepare(in_.read_size());
  auto r = co_await io_.read_some(room, deadline);
  in_.commit(r ? r.value : 0);
  co_return r.result;
}

asio::awaitable<Session::LineResult> Session::read_line(Deadline deadline, std::string& line) {
  for (;;) {
    auto got = in_.take_line(s_.max_line_length, line);
    if (got == InputBuffer::Line::complete) co_return LineResult::line;
    if (got == InputBuffer::Line::too_long) co_return LineResult::too_long;
    auto r = co_await fill(deadline);
    if (!r) co_return r.error == net::IoError::timeout ? LineResult::timeout : LineResult::closed;
  }
}

asio::awaitable<bool> Session::flush() {
  if (out_.empty()) co_return true;
  auto r = co_await io_.write(out_, Clock::now() + s_.command_timeout);
  out_.clear();
  co_return static_cast<bool>(r);
}

asio::awaitable<bool> Session::queue(const Reply& r) {
  auto v = view();
  bool go_on = co_await policy_.before_reply(v, r);
  out_ += r.wire();
  co_return go_on;
}

asio::awaitable<bool> Session::send_now(const Reply& r) {
  bool go_on = co_await queue(r);
  if (!go_on) co_return false;
  bool ok = co_await flush();
  co_return ok;
}

asio::awaitable<void> Session::pause(std::chrono::milliseconds d) {
  if (d.count() <= 0) co_return;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, d);
  co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

Outcome Session::closing(int code, std::string_view text) {
  return Outcome{make_reply(code, text), true};
}

asio::awaitable<bool> Session::greet() {
  const auto& host = s_.hostname;
  if (s_.implicit_tls && s_.tls && !io_.tls_active()) {
    auto shaken = co_await io_.start_tls(*s_.tls, Clock::now() + s_.tls_handshake_timeout);
    if (!shaken) {
      log_info("TLS handshake failed: " + smtp::printable(shaken.detail));
      co_return false;
    }
  }
  auto refusal = co_await policy_.check_client(client_);
  if (refusal) {
    log_info("refused at connect: " + smtp::printable(refusal->text()));
    co_await send_now(*refusal);
    co_return false;
  }
  // A client that talks before the greeting is a spam engine that does not
  // wait for answers (RFC 5321 4.3.1 says it must). Judged by bytes really
  // received, and only where the client must wait (never on implicit TLS,
  // where the client speaks first by design).
  if (!s_.implicit_tls && s_.greet_pause.count() > 0) {
    bool early = co_await io_.bytes_arrive_before(Clock::now() + s_.greet_pause);
    if (early) {
      log_info("talked before the greeting: refused");
      co_await send_now(make_reply(554, "5.5.0 " + host + " Talking before the greeting: go away"));
      co_return false;
    }
  }
  auto greeting = policy_.greeting(view());
  if (!greeting) greeting = make_reply(220, host + " " + s_.banner);
  refusing_ = greeting->code == 554;
  bool greeted = co_await send_now(*greeting);
  co_return greeted;
}

asio::awaitable<void> Session::run() {
  bool open = co_await greet();
  if (!open) co_return;
  const auto& host = s_.hostname;
  std::string line;
  for (;;) {
    auto timeout = phase_.in_mail ? s_.command_timeout : s_.idle_timeout;
    // Waiting for the client with nothing buffered: with a small buffer (a
    // burst of pipelined commands may have grown it).
    if (in_.empty()) in_.relax();
    auto got = co_await read_line(Clock::now() + timeout, line);
    line_ = got == LineResult::line ? std::string_view(line) : std::string_view();
    Outcome outcome;
    unsigned flags = ends_group;
    auto verb = smtp::Verb::unknown;
    if (got == LineResult::closed) co_return;
    if (got == LineResult::timeout) {
      log_info("timeout");
      co_await send_now(make_reply(421, "4.4.2 " + host + " Timeout, closing the connection"));
      co_return;
    }
    if (got == LineResult::too_long) {
      // Answered at once; the rest of the line is skipped as it arrives and
      // what the client pipelined behind it is kept.
      outcome.reply = make_reply(500, "5.5.6 Line too long");
    } else if (auto raw = refusing_ ? std::nullopt : raw_mail_rcpt(line)) {
      outcome = std::move(*raw);
      flags = 0;
    } else {
      auto parsed = smtp::parse_command_or_reply(line, s_.lenient_paths);
      if (!parsed.command) {
        outcome.reply = std::move(parsed.refusal);
      } else {
        verb = parsed.command->verb;
        const auto& spec = command_spec(verb);
        flags = spec.flags;
        auto refused = refusing_ ? refuse_all_but_quit(verb) : std::nullopt;
        if (!refused) refused = check_sequence(spec, phase_);
        if (!refused) refused = policy_.check_command(view(), *parsed.command);
        if ((flags & junk) && ++junk_ > s_.max_junk) {
          log_info("too many junk commands");
          outcome = closing(421, "4.7.0 " + host + " Too many junk commands, closing");
        } else if (refused) {
          outcome.reply = std::move(*refused);
        } else {
          outcome = co_await dispatch(*parsed.command);
        }
      }
    }
    if (outcome.reply.code != 0) policy_.shape_reply(view(), verb, outcome.reply);
    if (outcome.reply.code >= 400) {
      policy_.command_refused(view(), CommandRefusal{line, verb, outcome.reply, env_.mail_from,
                                                     phase_.in_mail, env_.esmtp});
    }
    if (outcome.reply.code >= 500) ++errors_;
    if (outcome.reply.code != 0) {
      bool go_on = co_await queue(outcome.reply);
      if (!go_on) co_return;
    }
    if (outcome.close) {
      co_await flush();
      co_return;
    }
    auto hang_up = policy_.close_after(view(), outcome.reply);
    if (hang_up) {
      co_await queue(*hang_up);
      co_await flush();
      co_return;
    }
    // Too many errors: a confused or hostile client (or another protocol
    // spoken at us, the cross-protocol attack); stop listening to it.
    if (errors_ >= s_.max_errors) {
      log_info("too many errors");
      out_ += make_reply(421, "4.7.0 " + host + " Too many errors, closing the connection").wire();
      co_await flush();
      co_return;
    }
    if ((flags & ends_group) || in_.empty()) {
      bool sent = co_await flush();
      if (!sent) co_return;
    }
  }
}

asio::awaitable<Outcome> Session::dispatch(const smtp::Command& c) {
  using Handler = asio::awaitable<Outcome> (Session::*)(const smtp::Command&);
  struct Row {
    smtp::Verb verb;
    Handler handler;
  };
  // The handler column of the command table (commands.cpp holds the rest).
  static constexpr Row rows[] = {
      {smtp::Verb::ehlo, &Session::on_ehlo}, {smtp::Verb::helo, &Session::on_helo},
      {smtp::Verb::mail, &Session::on_mail}, {smtp::Verb::rcpt, &Session::on_rcpt},
      {smtp::Verb::data, &Session::on_data}, {smtp::Verb::rset, &Session::on_rset},
      {smtp::Verb::noop, &Session::on_noop}, {smtp::Verb::quit, &Session::on_quit},
      {smtp::Verb::vrfy, &Session::on_vrfy}, {smtp::Verb::expn, &Session::on_expn},
      {smtp::Verb::help, &Session::on_help}, {smtp::Verb::starttls, &Session::on_starttls},
      {smtp::Verb::auth, &Session::on_auth}, {smtp::Verb::bdat, &Session::on_bdat},
  };
  for (const auto& row : rows) {
    if (row.verb == c.verb) {
      auto o = co_await (this->*row.handler)(c);
      co_return o;
    }
  }
  co_return Outcome{make_reply(500, "5.5.2 Command unrecognized")};
}

}  // namespace detail

asio::awaitable<void> run_session(Stream& stream, ClientInfo client,
                                  const SessionSettings& settings, SessionPolicy& policy,
                                  MessageSink& sink) {
  detail::Session session(stream, std::move(client), settings, policy, sink);
  try {
    co_await session.run();
  } catch (const std::exception& e) {
    // Nothing on the network path throws by design; this is the last guard
    // so that one session can never take the server down.
    spdlog::error("session ended by an exception: {}", e.what());
  }
  stream.close();
}

asio::awaitable<void> run_session(asio::ip::tcp::socket socket, ClientInfo client,
                                  const SessionSettings& settings, SessionPolicy& policy,
                                  MessageSink& sink) {
  SocketStream stream(std::move(socket));
  co_await run_session(stream, std::move(client), settings, policy, sink);
}

}  // namespace relayscope::smtpd
