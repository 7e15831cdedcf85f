// The relay's and the collector's log lines, in Postfix's shape so that the
// tools and habits built for Postfix logs (pflogsumm, grep by queue id) work:
//   ID: client=HOST[IP]
//   ID: from=<a@b>, size=N, nrcpt=N, tls=yes, auth=alice (queue active)
//   ID: to=<c@d>, relay=HOST[IP]:PORT, delay=1.2, delays=0.02/0.9/0/0.28, dsn=2.0.0,
//       status=sent (250 2.0.0 Ok)
//   NOQUEUE: reject: RCPT from HOST[IP]: 554 5.7.1 <c@d>: Relay access denied;
//       from=<a@b> to=<c@d> proto=ESMTP helo=<h>
//   ID: collect: token=T, probe=N, run=R, result=delivered, from=<a@b>, client=[IP]
// Every line of a message starts with its queue id; a refusal before there
// is one says NOQUEUE. Pure: strings in, one line out (no newline).
#pragma once

#include <string>
#include <string_view>

namespace relayscope::server::log_lines {

// "host[ip]", "unknown[ip]" without a name (we do no reverse lookups).
std::string client(std::string_view name, std::string_view ip);

// Postfix's delay=: two significant digits under 10 s, whole seconds above.
std::string delay(double seconds);

// Control characters and the CR/LF of a hostile reply or address become
// '?': one event, one line.
std::string clean(std::string_view text);

struct Refusal {
  std::string stage;  // CONNECT, HELO, MAIL, RCPT, DATA, AUTH, or the verb refused (syntax)
  std::string client_name;
  std::string client_ip;
  std::string reply;            // "554 5.7.1 <c@d>: Relay access denied" (all lines joined)
  std::string from;             // bare; empty is <>
  std::string to;               // bare; empty when none was given
  std::string proto = "ESMTP";  // "SMTP" after HELO
  std::string helo;
};
std::string noqueue_reject(const Refusal& r);

// The stage of a refused command line: its first word upper-cased ("RCPT"),
// "UNKNOWN" when it is no word.
std::string command_stage(std::string_view line);
// The address a MAIL FROM / RCPT TO line gives, as written (the brackets'
// content, or the first word after the colon); empty when there is none.
std::string command_address(std::string_view line);

std::string queue_client(std::string_view id, std::string_view client_name,
                         std::string_view client_ip);

struct Queued {
  std::string from;
  std::size_t size = 0;
  std::size_t nrcpt = 0;
  bool tls = false;
  std::string auth_user;  // empty: none
};
std::string queued(std::string_view id, const Queued& q);

// Postfix's delays=a/b/c/d, the parts of delay=: a before the queue manager
// (from arrival until the queue manager took the message: spooling, the
// time the relay was down, and up to a second by which the whole-second
// arrival stamp rounds down), b in the queue manager (retry waits, the spool
// read), c connection setup, d transmission. Our couriers report one
// duration for a delivery, connection and transmission together: it is all
// in d and c is always 0 (as Postfix's own local deliveries show it).
struct Delays {
  double before_queue = 0;
  double in_queue = 0;
  double connection = 0;
  double transmission = 0;
};
// The parts of `total` seconds since arrival, from the two durations the
// queue manager measures; a is what is left (never below 0), so that the
// parts add up to delay= as Postfix's do.
Delays split_delay(double total, double in_queue, double carry);
// "a/b/c/d", each as delay= writes it except that under 0.01 s is "0".
std::string delays(const Delays& d);

struct Delivery {
  std::string to;
  std::string relay;         // "host[ip]:port", "maildir", "none"
  double delay_seconds = 0;  // since arrival
  Delays delays;
  std::string dsn;           // "2.0.0", "4.4.1", "5.1.1"
  std::string status;        // sent, deferred, bounced, expired
  std::string remote_reply;  // the remote's own reply ("250 2.0.0 Ok: queued as X"), or
                             // what happened ("connect to ...: Connection refused")
};
std::string delivery(std::string_view id, const Delivery& d);

struct Arrival {
  std::string token;   // the probe's token, empty when none was found
  std::string probe;   // the probe's id in the store, empty when unknown
  std::string run;     // that probe's run, empty when unknown
  std::string result;  // delivered, bounced, unmatched
  std::string from;
  std::string client_ip;
};
std::string arrival(std::string_view id, const Arrival& a);

}  // namespace relayscope::server::log_lines
