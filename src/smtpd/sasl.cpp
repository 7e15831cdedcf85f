// See sasl.hpp.
#include "smtpd/sasl.hpp"

#include "common/ascii.hpp"

namespace relayscope::smtpd {

namespace {

SaslExchange::Step refused(int code, std::string_view text) {
  SaslExchange::Step s;
  s.kind = SaslExchange::Kind::refused;
  s.reply = smtp::make_reply(code, text);
  return s;
}

SaslExchange::Step challenge(std::string text) {
  SaslExchange::Step s;
  s.kind = SaslExchange::Kind::challenge;
  s.challenge = std::move(text);
  return s;
}

}  // namespace

PlainResult decode_plain(std::string_view base64) {
  auto fail = [](int code, std::string_view text) {
    return PlainResult{std::nullopt, smtp::make_reply(code, text)};
  };
  auto raw = base64_decode(base64);
  if (!raw) return fail(501, "5.5.2 Cannot decode the AUTH PLAIN response");
  auto first = raw->find('\0');
  auto second = first == std::string::npos ? first : raw->find('\0', first + 1);
  if (second == std::string::npos || raw->find('\0', second + 1) != std::string::npos) {
    return fail(501, "5.5.2 AUTH PLAIN wants authzid NUL user NUL password");
  }
  Credentials c;
  auto authzid = raw->substr(0, first);
  c.user = raw->substr(first + 1, second - first - 1);
  c.password = raw->substr(second + 1);
  if (c.user.empty()) return fail(501, "5.5.2 AUTH PLAIN without a user name");
  if (!authzid.empty() && authzid != c.user) {
    return fail(535, "5.7.8 Authorisation identity not allowed");
  }
  return PlainResult{std::move(c), {}};
}

SaslExchange::Step SaslExchange::start(std::string_view argument) {
  if (state_ != State::idle) return refused(503, "5.5.1 AUTH exchange already started");
  auto space = argument.find(' ');
  auto mechanism = ascii::upper(argument.substr(0, space));
  std::optional<std::string_view> initial;
  if (space != std::string_view::npos) initial = argument.substr(space + 1);
  state_ = State::finished;
  if (mechanism == "PLAIN") {
    if (!initial) {
      state_ = State::plain_response;
      return challenge("");
    }
    // RFC 4954 4: "=" is an empty initial response.
    return finish_plain(*initial == "=" ? std::string_view() : *initial);
  }
  if (mechanism == "LOGIN") {
    if (!initial) {
      state_ = State::login_user;
      return challenge("VXNlcm5hbWU6");  // "Username:"
    }
    return ask_password(*initial);
  }
  return refused(504, "5.5.4 Unrecognized authentication type");
}

SaslExchange::Step SaslExchange::respond(std::string_view line) {
  auto state = state_;
  state_ = State::finished;
  if (line == "*") return refused(501, "5.0.0 Authentication cancelled");
  switch (state) {
    case State::plain_response:
      return finish_plain(line);
    case State::login_user:
      return ask_password(line);
    case State::login_password: {
      auto pass = base64_decode(line);
      if (!pass) return refused(501, "5.5.2 Cannot decode the AUTH LOGIN response");
      Step s;
      s.kind = Kind::credentials;
      s.credentials = Credentials{std::move(user_), std::move(*pass)};
      return s;
    }
    default:
      return refused(503, "5.5.1 No AUTH exchange in progress");
  }
}

SaslExchange::Step SaslExchange::finish_plain(std::string_view response) {
  if (response == "*") return refused(501, "5.0.0 Authentication cancelled");
  auto r = decode_plain(response);
  if (!r.credentials) {
    Step s;
    s.kind = Kind::refused;
    s.reply = std::move(r.refusal);
    return s;
  }
  Step s;
  s.kind = Kind::credentials;
  s.credentials = std::move(*r.credentials);
  return s;
}

SaslExchange::Step SaslExchange::ask_password(std::string_view user64) {
  if (user64 == "*") return refused(501, "5.0.0 Authentication cancelled");
  auto user = base64_decode(user64);
  if (!user || user->empty()) return refused(501, "5.5.2 Cannot decode the AUTH LOGIN response");
  user_ = std::move(*user);
  state_ = State::login_password;
  return challenge("UGFzc3dvcmQ6");  // "Password:"
}

}  // namespace relayscope::smtpd
