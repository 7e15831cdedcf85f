// DATA (see session_impl.hpp): the message streams from the client through
// smtp::DataReader (un-stuffing, smuggling and NUL defence, size limit) to the
// sink in bounded chunks, so a session's memory stays the same whatever the
// message's size. The whole of DATA has one deadline: a client trickling a
// byte now and then cannot hold it open past it.
#include <spdlog/spdlog.h>

#include "smtp/data_reader.hpp"
#include "smtpd/session_impl.hpp"

namespace relayscope::smtpd::detail {

namespace {

Reply refusal_for(smtp::DataReader::State state, std::size_t max_size) {
  using State = smtp::DataReader::State;
  switch (state) {
    case State::too_big:
      return make_reply(552, "5.3.4 Message too big: the limit is " + std::to_string(max_size));
    case State::bare_line_ending:
      return make_reply(
          554, "5.6.11 Bare CR or LF in the message: only CRLF ends a line (SMTP smuggling)");
    case State::nul_byte:
      return make_reply(550, "5.6.0 NUL bytes are not allowed in a message");
    default:
      return make_reply(554, "5.6.0 Line too long in the message");
  }
}

}  // namespace

asio::awaitable<Outcome> Session::on_data(const smtp::Command&) {
  // The message pipelined behind DATA before our 354 (RFC 2920 forbids it):
  // a spam engine that does not listen, or a smuggling attempt. Dropped
  // unless authenticated (Postfix smtpd_forbid_unauth_pipelining).
  if (s_.forbid_unauth_pipelining && env_.auth_user.empty() && !in_.empty()) {
    log_info("pipelined the message before 354: dropped");
    co_return closing(554, "5.5.0 Error: SMTP protocol synchronization");
  }
  auto writer = co_await sink_.open(client_, env_);
  if (!writer) {
    reset_transaction();
    co_return Outcome{make_reply(451, "4.3.0 Cannot take the message now; try again later")};
  }
  bool sent = co_await send_now(make_reply(354, "End data with <CR><LF>.<CR><LF>"));
  if (!sent) {
    co_await writer->abort();
    co_return Outcome{Reply{}, true};
  }
  auto deadline = Clock::now() + s_.data_timeout;
  smtp::DataReader reader(s_.max_message_size, smtp::DataReader::no_line_limit);
  std::string chunk;
  bool kept = true;  // the sink took every chunk so far
  while (!reader.finished()) {
    if (in_.empty()) {
      auto r = co_await fill(deadline);
      if (!r) {
        co_await writer->abort();
        if (r.error == net::IoError::timeout) {
          log_info("timeout in DATA");
          co_return closing(421, "4.4.2 " + s_.hostname + " Timeout in DATA, closing");
        }
        co_return Outcome{Reply{}, true};
      }
    }
    in_.consume(reader.feed(in_.data(), chunk));
    if (reader.state() != smtp::DataReader::State::reading && !reader.finished()) {
      chunk.clear();  // refused already: nothing more goes to the sink
    }
    if (kept && chunk.size() >= s_.data_chunk) {
      auto piece = std::move(chunk);
      chunk = std::string();
      kept = co_await writer->write(std::move(piece));
    }
  }
  reset_transaction();
  in_.relax();  // the message's big reads are over: back to a small buffer
  auto state = reader.state();
  if (state == smtp::DataReader::State::done && kept && !chunk.empty()) {
    auto piece = std::move(chunk);
    kept = co_await writer->write(std::move(piece));
  }
  if (state != smtp::DataReader::State::done || !kept) {
    co_await writer->abort();
    if (!kept) {
      co_return Outcome{make_reply(451, "4.3.0 Cannot keep the message now; try again later")};
    }
    co_return Outcome{refusal_for(state, s_.max_message_size)};
  }
  auto verdict = co_await writer->commit();
  co_return Outcome{std::move(verdict)};
}

}  // namespace relayscope::smtpd::detail
