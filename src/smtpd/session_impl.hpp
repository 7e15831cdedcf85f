// Inside the session (see session.hpp): the Session class shared by the loop
// (session.cpp), the plain handlers (handlers.cpp), DATA (data.cpp) and
// STARTTLS/AUTH (auth.cpp). Not for use outside src/smtpd.
#pragma once

#include <string>

#include "smtpd/commands.hpp"
#include "smtpd/input_buffer.hpp"
#include "smtpd/session.hpp"

namespace relayscope::smtpd::detail {

using Reply = smtp::Reply;

// What a handler asks of the loop besides sending its reply.
struct Outcome {
  Reply reply;
  bool close = false;
};

class Session {
 public:
  Session(Stream& stream, ClientInfo client, const SessionSettings& settings, SessionPolicy& policy,
          MessageSink& sink)
      : io_(stream), client_(std::move(client)), s_(settings), policy_(policy), sink_(sink) {
    client_.role = settings.role;
  }

  asio::awaitable<void> run();

  // Handlers: each returns the reply value; only the loop writes it (DATA,
  // STARTTLS and AUTH talk in between through send_now()).
  asio::awaitable<Outcome> on_ehlo(const smtp::Command& c);
  asio::awaitable<Outcome> on_helo(const smtp::Command& c);
  asio::awaitable<Outcome> on_mail(const smtp::Command& c);
  asio::awaitable<Outcome> on_rcpt(const smtp::Command& c);
  asio::awaitable<Outcome> on_rset(const smtp::Command& c);
  asio::awaitable<Outcome> on_noop(const smtp::Command& c);
  asio::awaitable<Outcome> on_quit(const smtp::Command& c);
  asio::awaitable<Outcome> on_vrfy(const smtp::Command& c);
  asio::awaitable<Outcome> on_expn(const smtp::Command& c);
  asio::awaitable<Outcome> on_help(const smtp::Command& c);
  asio::awaitable<Outcome> on_bdat(const smtp::Command& c);
  asio::awaitable<Outcome> on_data(const smtp::Command& c);
  asio::awaitable<Outcome> on_starttls(const smtp::Command& c);
  asio::awaitable<Outcome> on_auth(const smtp::Command& c);

 private:
  enum class LineResult { line, too_long, timeout, closed };
  asio::awaitable<LineResult> read_line(Deadline deadline, std::string& line);
  asio::awaitable<net::IoResult> fill(Deadline deadline);
  asio::awaitable<bool> flush();
  // Lets the policy wait (before_reply), then adds the reply to what goes
  // out with the next flush; false: the policy ends the session.
  asio::awaitable<bool> queue(const Reply& r);
  asio::awaitable<bool> send_now(const Reply& r);
  // After a 554 greeting (RFC 5321 3.1): 503 to all but QUIT.
  static std::optional<Reply> refuse_all_but_quit(smtp::Verb verb) {
    if (verb == smtp::Verb::quit) return std::nullopt;
    return make_reply(503, "5.5.1 No SMTP service here; QUIT only");
  }
  asio::awaitable<bool> greet();
  asio::awaitable<Outcome> dispatch(const smtp::Command& c);
  asio::awaitable<void> pause(std::chrono::milliseconds d);
  Outcome closing(int code, std::string_view text);
  // The policy's look at a raw MAIL/RCPT line before the parser (lab tricks).
  std::optional<Outcome> raw_mail_rcpt(std::string_view line);
  void log_info(std::string_view what) const;

  void reset_transaction() {
    env_.mail_from.clear();
    env_.recipients.clear();
    phase_.in_mail = false;
    phase_.has_rcpt = false;
    env_.authorised = false;
    env_.authorised_user.clear();
  }
  SessionView view() const {
    return SessionView{client_,
                       env_.helo,
                       io_.tls_active(),
                       env_.auth_user,
                       env_.authorised_user,
                       env_.authorised,
                       env_.recipients.size(),
                       line_};
  }

  Stream& io_;
  InputBuffer in_;
  ClientInfo client_;
  const SessionSettings& s_;
  SessionPolicy& policy_;
  MessageSink& sink_;
  SessionPhase phase_;
  Envelope env_;
  std::string out_;  // replies gathered for one write
  int errors_ = 0;
  int junk_ = 0;
  std::size_t overshoot_ = 0;
  int auth_failures_ = 0;
  bool refusing_ = false;  // the greeting was a 554
  std::string_view line_;  // the command line being answered, for the policy
};

}  // namespace relayscope::smtpd::detail
