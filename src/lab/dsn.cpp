// See dsn.hpp.
#include "lab/dsn.hpp"

#include <array>
#include <cstdio>

namespace relayscope::lab {

std::string rfc5322_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                days[static_cast<std::size_t>(tm.tm_wday % 7)], tm.tm_mday,
                months[static_cast<std::size_t>(tm.tm_mon % 12)], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

std::string received_header(const ReceivedFields& f) {
  return "Received: from " + (f.helo.empty() ? std::string("unknown") : f.helo) + " ([" +
         f.client_ip + "])\r\n\tby " + f.by + " (relayscope lab) with " +
         (f.esmtp ? "ESMTP" : "SMTP") + " id " + f.id + "\r\n\tfor <" + f.recipient + ">; " +
         rfc5322_date(f.when) + "\r\n";
}

namespace {

// The header block of a message (up to and including the empty line).
std::string headers_of(const std::string& message) {
  auto end = message.find("\r\n\r\n");
  return end == std::string::npos ? message : message.substr(0, end + 2);
}

}  // namespace

std::string build_dsn(const DsnFields& f) {
  const std::string& b = f.boundary;
  std::string m;
  m += "From: Mail Delivery System <" + f.postmaster + ">\r\n";
  m += "To: <" + f.original_sender + ">\r\n";
  m += "Subject: Undelivered Mail Returned to Sender\r\n";
  m += "Date: " + rfc5322_date(f.when) + "\r\n";
  m += "Message-ID: " + f.message_id + "\r\n";
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + b +
       "\"\r\n";
  m += "\r\n";
  m += "This is a MIME-encapsulated message.\r\n\r\n";
  m += "--" + b + "\r\n";
  m += "Content-Description: Notification\r\n";
  m += "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += "This is the mail system at host " + f.reporting_mta + ".\r\n\r\n";
  m += "Your message could not be delivered to one or more recipients.\r\n\r\n";
  m += "<" + f.original_recipient + ">: " + f.diagnostic + "\r\n\r\n";
  m += "--" + b + "\r\n";
  m += "Content-Description: Delivery report\r\n";
  m += "Content-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + f.reporting_mta + "\r\n";
  m += "Arrival-Date: " + rfc5322_date(f.when) + "\r\n\r\n";
  m += "Original-Recipient: rfc822; " + f.original_recipient + "\r\n";
  m += "Final-Recipient: rfc822; " + f.final_recipient + "\r\n";
  m += "Action: failed\r\n";
  m += "Status: " + f.status + "\r\n";
  m += "Diagnostic-Code: smtp; " + f.diagnostic + "\r\n\r\n";
  m += "--" + b + "\r\n";
  if (f.original_message.size() <= f.max_returned) {
    m += "Content-Description: Undelivered Message\r\n";
    m += "Content-Type: message/rfc822\r\n\r\n";
    m += f.original_message;
  } else {
    m += "Content-Description: Undelivered Message Headers\r\n";
    m += "Content-Type: text/rfc822-headers\r\n\r\n";
    m += headers_of(f.original_message);
  }
  if (m.size() < 2 || m.compare(m.size() - 2, 2, "\r\n") != 0) m += "\r\n";
  m += "\r\n--" + b + "--\r\n";
  return m;
}

}  // namespace relayscope::lab
