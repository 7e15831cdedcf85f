// See dsn.hpp.
#include "server/dsn.hpp"

#include <fmt/format.h>

namespace relayscope::server {

namespace {

std::string rfc5322_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[64];
  std::strftime(b, sizeof b, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return b;
}

std::string headers_of(const std::string& message) {
  auto end = message.find("\r\n\r\n");
  return end == std::string::npos ? message : message.substr(0, end + 2);
}

std::string clean(std::string s) {
  for (auto& c : s) {
    if (c == '\r' || c == '\n') {
      c = ' ';
    }
  }
  return s;
}

}  // namespace

std::string build_dsn(const DsnInput& in) {
  auto boundary =
      fmt::format("{}/{}.{}", in.queue_id, static_cast<long long>(in.now), in.reporting_mta);
  std::string m;
  m += "From: Mail Delivery System <MAILER-DAEMON@" + in.reporting_mta + ">\r\n";
  m += "To: <" + in.original_sender + ">\r\n";
  m += "Subject: Undelivered Mail Returned to Sender\r\n";
  m += "Date: " + rfc5322_date(in.now) + "\r\n";
  m += "Message-ID: <" + in.queue_id + ".dsn." + std::to_string(in.now) + "@" + in.reporting_mta +
       ">\r\n";
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary +
       "\"\r\n";
  m += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

  m += "--" + boundary + "\r\n";
  m += "Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += "This is the mail system at host " + in.reporting_mta + ".\r\n\r\n";
  m += "I'm sorry to have to inform you that your message could not\r\n";
  m += "be delivered to one or more recipients. It's attached below.\r\n\r\n";
  for (const auto& f : in.failed) {
    m += "<" + f.recipient + ">: " + clean(f.diagnostic) + "\r\n";
  }
  m += "\r\n--" + boundary + "\r\n";
  m += "Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + in.reporting_mta + "\r\n";
  m += "X-Relayscope-Queue-ID: " + in.queue_id + "\r\n";
  m += "Arrival-Date: " + rfc5322_date(in.arrival) + "\r\n";
  for (const auto& f : in.failed) {
    m += "\r\nFinal-Recipient: rfc822; " + f.recipient + "\r\n";
    m += "Action: failed\r\n";
    m += "Status: " + f.status + "\r\n";
    if (!f.remote_mta.empty()) {
      m += "Remote-MTA: dns; " + f.remote_mta + "\r\n";
    }
    m += "Diagnostic-Code: smtp; " + clean(f.diagnostic) + "\r\n";
    m += "Last-Attempt-Date: " + rfc5322_date(in.now) + "\r\n";
  }
  m += "\r\n--" + boundary + "\r\n";
  if (in.original_message.size() <= in.max_returned) {
    m += "Content-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n";
    m += in.original_message;
    if (m.size() < 2 || m.compare(m.size() - 2, 2, "\r\n") != 0) {
      m += "\r\n";
    }
  } else {
    m += "Content-Description: Undelivered Message Headers\r\nContent-Type: "
         "text/rfc822-headers\r\n\r\n";
    m += headers_of(in.original_message);
  }
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace relayscope::server
