// Messages the lab's hosts write themselves, pure: the Received: line a
// relaying host adds, and the RFC 3464 delivery status notification a
// bouncing host sends back (multipart/report with message/delivery-status
// and the returned message, whole up to a size, else its headers only, so
// that the probe's token in the original survives either way).
#pragma once

#include <cstddef>
#include <ctime>
#include <string>

namespace relayscope::lab {

// RFC 5322 date-time of `t`, UTC ("Sat, 03 Jul 1999 12:00:00 +0000").
std::string rfc5322_date(std::time_t t);

struct ReceivedFields {
  std::string helo;  // what the client called itself
  std::string client_ip;
  std::string by;         // the host's name
  std::string id;         // queue id
  std::string recipient;  // bare
  bool esmtp = true;
  std::time_t when = 0;
};
std::string received_header(const ReceivedFields& f);  // ends with CRLF

struct DsnFields {
  std::string reporting_mta;       // the bouncing host's name
  std::string postmaster;          // "MAILER-DAEMON@<host>"
  std::string original_sender;     // bare; the DSN goes here
  std::string original_recipient;  // bare, as the client gave it
  std::string final_recipient;     // where it would really have gone
  std::string status = "5.7.1";
  std::string diagnostic = "550 5.7.1 Relaying denied by the final destination";
  std::string original_message;  // CRLF line endings
  std::string boundary;          // unique; must not occur in the message
  std::string message_id;        // "<...>"
  std::time_t when = 0;
  std::size_t max_returned = 64 * 1024;  // larger originals: headers only
};
std::string build_dsn(const DsnFields& f);

}  // namespace relayscope::lab
