// Real-shaped returned mail for the collector's tests: a Postfix DSN, an
// Exim DSN (quoted-printable body), a returned message sent base64-encoded
// whole, one whose body is base64, one returning headers only, and Exim's
// old plain-text bounce. Tokens: T1 and T2 below (20 characters, as the survey).
#pragma once

#include <string>

namespace relayscope::collect::samples {

inline const std::string T1 = "k3v9q1m0x7c2b8n4z6a5";
inline const std::string T2 = "p0o9i8u7y6t5r4e3w2q1";

// The survey's test message (survey/test_message.cpp), token T1.
inline const std::string test_message =
    "From: Relay test <probe+k3v9q1m0x7c2b8n4z6a5@collector.test>\r\n"
    "To: <relay-test+k3v9q1m0x7c2b8n4z6a5@collector.test>\r\n"
    "Subject: Relay test\r\n"
    "Message-ID: <k3v9q1m0x7c2b8n4z6a5@collector.test>\r\n"
    "X-Relayscope-Token: k3v9q1m0x7c2b8n4z6a5\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    "Token: k3v9q1m0x7c2b8n4z6a5\r\n";

// Postfix: notification, delivery-status, the whole message returned. The
// DSN's recipient fields carry no tag (the relay rewrote the recipient).
inline const std::string postfix_dsn =
    "Return-Path: <>\r\n"
    "From: MAILER-DAEMON@mx.relay.test (Mail Delivery System)\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "To: probe@collector.test\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    "\tboundary=\"4A1C82004F.1700000000/mx.relay.test\"\r\n"
    "Message-Id: <20261123020000.7F3E12004E@mx.relay.test>\r\n\r\n"
    "This is a MIME-encapsulated message.\r\n\r\n"
    "--4A1C82004F.1700000000/mx.relay.test\r\n"
    "Content-Description: Notification\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    "This is the mail system at host mx.relay.test.\r\n\r\n"
    "I'm sorry to have to inform you that your message could not\r\n"
    "be delivered to one or more recipients.\r\n\r\n"
    "<someone@elsewhere.test>: host mx.elsewhere.test[127.9.9.9] said: 550 5.7.1\r\n"
    "    Relaying denied (in reply to RCPT TO command)\r\n\r\n"
    "--4A1C82004F.1700000000/mx.relay.test\r\n"
    "Content-Description: Delivery report\r\n"
    "Content-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.relay.test\r\n"
    "X-Postfix-Queue-ID: 4A1C82004F\r\n"
    "X-Postfix-Sender: rfc822; probe@collector.test\r\n"
    "Arrival-Date: Mon, 23 Nov 2026 02:00:00 +0000 (UTC)\r\n\r\n"
    "Final-Recipient: rfc822; someone@elsewhere.test\r\n"
    "Original-Recipient: rfc822;someone@elsewhere.test\r\n"
    "Action: failed\r\n"
    "Status: 5.7.1\r\n"
    "Remote-MTA: dns; mx.elsewhere.test\r\n"
    "Diagnostic-Code: smtp; 550 5.7.1 Relaying denied\r\n\r\n"
    "--4A1C82004F.1700000000/mx.relay.test\r\n"
    "Content-Description: Undelivered Message\r\n"
    "Content-Type: message/rfc822\r\n\r\n" +
    test_message + "\r\n--4A1C82004F.1700000000/mx.relay.test--\r\n";

// Exim 4: X-Failed-Recipients, per-message fields then one recipient; the
// returned message's headers were rewritten by the relay, and its body is
// quoted-printable with a soft line break inside the token.
inline const std::string exim_dsn =
    "Return-path: <>\r\n"
    "X-Failed-Recipients: someone@elsewhere.test\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "From: Mail Delivery System <Mailer-Daemon@exim.relay.test>\r\n"
    "To: probe@collector.test\r\n"
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=1700000000-eximdsn-1804289383\r\n"
    "MIME-Version: 1.0\r\n"
    "Subject: Mail delivery failed: returning message to sender\r\n"
    "Message-Id: <E1vabcd-000001-AB@exim.relay.test>\r\n\r\n"
    "--1700000000-eximdsn-1804289383\r\n"
    "Content-type: text/plain; charset=us-ascii\r\n\r\n"
    "This message was created automatically by mail delivery software.\r\n\r\n"
    "A message that you sent could not be delivered to one or more of its\r\n"
    "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
    "  someone@elsewhere.test\r\n"
    "    host mx.elsewhere.test [127.9.9.9]\r\n"
    "    SMTP error from remote mail server after RCPT TO:<someone@elsewhere.test>:\r\n"
    "    550 Relaying denied\r\n\r\n"
    "--1700000000-eximdsn-1804289383\r\n"
    "Content-type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; exim.relay.test\r\n\r\n"
    "Action: failed\r\n"
    "Final-Recipient: rfc822;someone@elsewhere.test\r\n"
    "Status: 5.0.0\r\n"
    "Remote-MTA: dns; mx.elsewhere.test\r\n"
    "Diagnostic-Code: smtp; 550 Relaying denied\r\n\r\n"
    "--1700000000-eximdsn-1804289383\r\n"
    "Content-type: message/rfc822\r\n\r\n"
    "Received: from [127.0.0.1] by exim.relay.test with esmtp (Exim 4.96)\r\n"
    "\tid 1vabcd-000001-AA; Mon, 23 Nov 2026 02:00:00 +0000\r\n"
    "From: someone@relay.test\r\n"
    "To: someone@elsewhere.test\r\n"
    "Subject: Relay test\r\n"
    "Message-Id: <E1vabcd-000001-AA@exim.relay.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    "This is a test of whether this mail server relays mail for strangers=2C\r\n"
    "Token: k3v9q1m0x7=\r\n"
    "c2b8n4z6a5\r\n\r\n"
    "--1700000000-eximdsn-1804289383--\r\n";

// The returned message/rfc822 part itself sent base64-encoded (against RFC
// 2046, but seen in the wild): the token is nowhere in the raw bytes.
inline const std::string base64_whole_dsn =
    "From: MAILER-DAEMON@mx.relay.test\r\n"
    "To: <probe@collector.test>\r\n"
    "Subject: Delivery Status Notification (Failure)\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b64b\"\r\n\r\n"
    "--b64b\r\nContent-Type: text/plain\r\n\r\nDelivery has failed.\r\n"
    "--b64b\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns;mx.relay.test\r\n\r\n"
    "Final-Recipient: rfc822;someone@elsewhere.test\r\nAction: failed\r\nStatus: 5.4.1\r\n\r\n"
    "--b64b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "RnJvbTogUmVsYXkgdGVzdCA8cHJvYmUrazN2OXExbTB4N2MyYjhuNHo2YTVAY29sbGVjdG9yLnRl\r\n"
    "c3Q+DQpUbzogPHJlbGF5LXRlc3QrazN2OXExbTB4N2MyYjhuNHo2YTVAY29sbGVjdG9yLnRlc3Q+\r\n"
    "DQpTdWJqZWN0OiBSZWxheSB0ZXN0DQpNZXNzYWdlLUlEOiA8azN2OXExbTB4N2MyYjhuNHo2YTVA\r\n"
    "Y29sbGVjdG9yLnRlc3Q+DQpYLVJlbGF5c2NvcGUtVG9rZW46IGszdjlxMW0weDdjMmI4bjR6NmE1\r\n"
    "DQpNSU1FLVZlcnNpb246IDEuMA0KQ29udGVudC1UeXBlOiB0ZXh0L3BsYWluOyBjaGFyc2V0PXVz\r\n"
    "LWFzY2lpDQoNClRva2VuOiBrM3Y5cTFtMHg3YzJiOG40ejZhNQ0K\r\n"
    "--b64b--\r\n";

// A returned message whose body is base64 (token T2 only there).
inline const std::string base64_body_dsn =
    "From: MAILER-DAEMON@mx.relay.test\r\n"
    "To: <probe@collector.test>\r\n"
    "Subject: Returned mail\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=\"delivery-status\"; boundary=\"=_b2\"\r\n\r\n"
    "--=_b2\r\nContent-Type: text/plain\r\n\r\nReturned.\r\n"
    "--=_b2\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.relay.test\r\n\r\n"
    "Final-Recipient: rfc822; <someone@elsewhere.test>\r\nAction: delayed\r\nStatus: 4.4.7\r\n\r\n"
    "--=_b2\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: someone@relay.test\r\nTo: someone@elsewhere.test\r\nSubject: Relay test\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "VGhpcyBpcyBhIHRlc3Qgb2Ygd2hldGhlciB0aGlzIG1haWwgc2VydmVyIHJlbGF5cy4NClRva2Vu\r\n"
    "OiBwMG85aTh1N3k2dDVyNGUzdzJxMQ0K\r\n"
    "--=_b2--\r\n";

// Only the headers come back (text/rfc822-headers), folded Message-ID.
inline const std::string headers_only_dsn =
    "From: Mail Delivery Subsystem <MAILER-DAEMON@sendmail.relay.test>\r\n"
    "To: <probe@collector.test>\r\n"
    "Subject: Returned mail: see transcript for details\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    "\tboundary=\"5ANCB1o6001234.1700000000/sendmail.relay.test\"\r\n\r\n"
    "--5ANCB1o6001234.1700000000/sendmail.relay.test\r\n\r\n"
    "The original message was received at Mon, 23 Nov 2026 02:00:00 GMT\r\n\r\n"
    "   ----- The following addresses had permanent fatal errors -----\r\n"
    "<someone@elsewhere.test>\r\n\r\n"
    "--5ANCB1o6001234.1700000000/sendmail.relay.test\r\n"
    "Content-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; sendmail.relay.test\r\n"
    "Received-From-MTA: DNS; [127.0.0.1]\r\n\r\n"
    "Final-Recipient: RFC822; someone@elsewhere.test\r\n"
    "Action: failed\r\n"
    "Status: 5.7.1\r\n"
    "Diagnostic-Code: SMTP; 550 5.7.1 <someone@elsewhere.test>... Relaying denied\r\n\r\n"
    "--5ANCB1o6001234.1700000000/sendmail.relay.test\r\n"
    "Content-Type: text/rfc822-headers\r\n\r\n"
    "From: someone@relay.test\r\n"
    "To: someone@elsewhere.test\r\n"
    "Subject: Relay test\r\n"
    "Message-ID:\r\n <k3v9q1m0x7c2b8n4z6a5@collector.test>\r\n\r\n"
    "--5ANCB1o6001234.1700000000/sendmail.relay.test--\r\n";

// Exim 3's plain-text bounce: no MIME, the message copied after a line.
inline const std::string plain_bounce =
    "From: Mail Delivery System <Mailer-Daemon@old.relay.test>\r\n"
    "To: probe@collector.test\r\n"
    "Subject: Mail delivery failed: returning message to sender\r\n\r\n"
    "This message was created automatically by mail delivery software.\r\n\r\n"
    "A message that you sent could not be delivered to all of its recipients.\r\n\r\n"
    "------ This is a copy of the message, including all the headers. ------\r\n\r\n" +
    test_message;

}  // namespace relayscope::collect::samples
