// See dsn.hpp.
#include "mail/dsn.hpp"

#include "mail/date.hpp"

namespace relayscope::mail {

namespace {

// The header block of a message (up to and including the empty line).
std::string headers_of(const std::string& message) {
  auto end = message.find("\r\n\r\n");
  return end == std::string::npos ? message : message.substr(0, end + 2);
}

// A reply text goes into one header field: no line breaks of its own.
std::string one_line(std::string s) {
  for (auto& c : s) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return s;
}

}  // namespace

std::string build_dsn(const DsnMessage& in) {
  const auto& b = in.boundary;
  std::string m;
  m += "From: Mail Delivery System <" + in.postmaster + ">\r\n";
  m += "To: <" + in.original_sender + ">\r\n";
  m += "Subject: Undelivered Mail Returned to Sender\r\n";
  m += "Date: " + rfc5322_date(in.date) + "\r\n";
  m += "Message-ID: " + in.message_id + "\r\n";
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + b +
       "\"\r\n";
  m += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

  m += "--" + b + "\r\n";
  m += "Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += "This is the mail system at host " + in.reporting_mta + ".\r\n\r\n";
  m += "I'm sorry to have to inform you that your message could not\r\n";
  m += "be delivered to one or more recipients. It's attached below.\r\n\r\n";
  for (const auto& r : in.recipients) {
    auto shown = r.original_recipient.empty() ? r.final_recipient : r.original_recipient;
    m += "<" + shown + ">: " + one_line(r.diagnostic) + "\r\n";
  }
  m += "\r\n--" + b + "\r\n";
  m += "Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + in.reporting_mta + "\r\n";
  if (!in.queue_id.empty()) m += "X-Relayscope-Queue-ID: " + in.queue_id + "\r\n";
  m += "Arrival-Date: " + rfc5322_date(in.arrival) + "\r\n";
  for (const auto& r : in.recipients) {
    m += "\r\n";
    if (!r.original_recipient.empty()) {
      m += "Original-Recipient: rfc822; " + r.original_recipient + "\r\n";
    }
    m += "Final-Recipient: rfc822; " + r.final_recipient + "\r\n";
    m += "Action: failed\r\n";
    m += "Status: " + r.status + "\r\n";
    if (!r.remote_mta.empty()) m += "Remote-MTA: dns; " + r.remote_mta + "\r\n";
    m += "Diagnostic-Code: smtp; " + one_line(r.diagnostic) + "\r\n";
    if (r.last_attempt) m += "Last-Attempt-Date: " + rfc5322_date(r.last_attempt) + "\r\n";
  }
  m += "\r\n--" + b + "\r\n";
  if (in.original_message.size() <= in.max_returned) {
    m += "Content-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n";
    m += in.original_message;
  } else {
    m += "Content-Description: Undelivered Message Headers\r\n"
         "Content-Type: text/rfc822-headers\r\n\r\n";
    m += headers_of(in.original_message);
  }
  if (m.size() < 2 || m.compare(m.size() - 2, 2, "\r\n") != 0) m += "\r\n";
  m += "\r\n--" + b + "--\r\n";
  return m;
}

}  // namespace relayscope::mail
