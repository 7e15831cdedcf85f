// See refusal_log.hpp.
#include "server/refusal_log.hpp"

#include "server/log_lines.hpp"

namespace relayscope::server {

std::string noqueue_line(const smtpd::SessionView& s, const smtpd::CommandRefusal& r) {
  log_lines::Refusal f;
  f.stage = log_lines::command_stage(r.line);
  f.client_ip = s.client.address;
  f.reply = std::to_string(r.reply.code) + " " + r.reply.text();
  // A refused MAIL names the sender it refused; later ones the accepted one.
  if (f.stage == "MAIL") {
    f.from = log_lines::command_address(r.line);
  } else {
    f.from = std::string(r.mail_from);
  }
  if (f.stage == "RCPT") f.to = log_lines::command_address(r.line);
  f.proto = r.esmtp ? "ESMTP" : "SMTP";
  f.helo = s.helo;
  return log_lines::noqueue_reject(f);
}

}  // namespace relayscope::server
