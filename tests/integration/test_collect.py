# relayscope collect, the MX of the survey's test domain: what open relays
# deliver and what accept-then-bounce hosts return is tied to its probe by
# the token; a host that accepts and drops is accepted but not delivered;
# mail matching no probe is kept and counted; and the collector itself
# relays for nobody, whatever the spelling.
import base64
import email.utils
import os
import re
import smtplib
import sqlite3
import unittest

from aiosmtpd.controller import Controller

from peers import ports, process, relayscope
from peers.survey_case import SurveyCase

DOMAIN = "collector.test"


class Forwarder:
    """An open relay: passes every message on to the collector."""

    def __init__(self, collector):
        self.collector = collector

    async def handle_DATA(self, server, session, envelope):
        with smtplib.SMTP(*self.collector, timeout=10) as s:
            s.sendmail(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
        return "250 OK relayed"


class Bouncer:
    """Accepts, then returns the message to its sender in an RFC 3464 DSN."""

    def __init__(self, collector):
        self.collector = collector

    async def handle_DATA(self, server, session, envelope):
        original = envelope.original_content.decode("utf-8", "replace")
        dsn = ("From: MAILER-DAEMON@bouncer.test\r\nTo: %s\r\nSubject: Undelivered Mail\r\n"
               "Date: %s\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
               "--b\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
               "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; bouncer.test\r\n\r\n"
               "Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
               "--b\r\nContent-Type: message/rfc822\r\n\r\n%s\r\n--b--\r\n") % (
                   envelope.mail_from, email.utils.formatdate(), envelope.rcpt_tos[0], original)
        with smtplib.SMTP(*self.collector, timeout=10) as s:
            s.sendmail("", [envelope.mail_from], dsn.encode())
        return "250 OK"


class UntaggedBouncer:
    """Bounces to the sender's address with its tag stripped (as MTAs that
    rewrite the envelope do), returning the message either base64-encoded
    whole or as its headers only: the token is only in the returned part."""

    def __init__(self, collector, how):
        self.collector = collector
        self.how = how

    async def handle_DATA(self, server, session, envelope):
        local, _, domain = envelope.mail_from.rpartition("@")
        to = local.split("+")[0] + "@" + domain
        original = envelope.original_content
        if self.how == "base64":
            returned = ("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                        + base64.encodebytes(original).decode().replace("\n", "\r\n"))
        else:
            headers = original.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
            returned = "Content-Type: text/rfc822-headers\r\n\r\n" + headers + "\r\n"
        dsn = ("From: MAILER-DAEMON@bouncer.test\r\nTo: %s\r\nSubject: Returned mail\r\n"
               "Date: %s\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/report; report-type=delivery-status; boundary=\"=b=\"\r\n\r\n"
               "--=b=\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
               "--=b=\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; bouncer.test\r\n\r\n"
               "Final-Recipient: rfc822; someone@elsewhere.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
               "--=b=\r\n%s--=b=--\r\n") % (to, email.utils.formatdate(), returned)
        with smtplib.SMTP(*self.collector, timeout=10) as s:
            s.sendmail("", [to], dsn.encode())
        return "250 OK"


class Dropper:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK (and gone)"


class Queuer:
    """Accepts and keeps the message for later, as a relay with a queue
    does: the test delivers it to the collector once the survey is over."""

    def __init__(self):
        self.kept = []

    async def handle_DATA(self, server, session, envelope):
        self.kept.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK queued"


class CollectTest(SurveyCase):
    def start_collector(self):
        addr = ports.random_loopback()
        port = ports.free_port(addr)
        self.collector_db = self.db
        p = process.Process([relayscope.binary(), "collect", "--listen", "%s:%d" % (addr, port),
                             "--domain", DOMAIN, "--db", self.db,
                             "--spool", os.path.join(self.dir, "collected")],
                            self.dir, "collect")
        self.addCleanup(p.stop)
        ports.wait_for_port(addr, port, 15, alive=p.alive)
        return p, (addr, port)

    def start_host(self, handler, addr, port):
        c = Controller(handler, hostname=addr, port=port)
        c.start()
        self.addCleanup(c.stop)

    def test_deliveries_and_bounces_are_tied_to_their_probes(self):
        collector, where = self.start_collector()
        addrs = ports.distinct_loopbacks(3)
        port = ports.free_port_all(addrs)
        self.start_host(Forwarder(where), addrs[0], port)
        self.start_host(Bouncer(where), addrs[1], port)
        self.start_host(Dropper(), addrs[2], port)
        self.start_dns({"relays.test": addrs[0], "bounces.test": addrs[1], "drops.test": addrs[2],
                        DOMAIN: where[0]})
        self.survey(["relays.test", "bounces.test", "drops.test"], port,
                    extra=["--mail-from", "probe@" + DOMAIN, "--rcpt-to", "relay-test@" + DOMAIN])
        # The forwarder and the bouncer pass their mail on before they answer
        # 250: by the time the survey ends, the collector has it.
        rows = self.host_rows()
        for d in ("relays.test", "bounces.test", "drops.test"):
            self.assertOutcome(rows[d], "OK")
        self.assertEqual((rows["relays.test"]["delivered"], rows["relays.test"]["bounced"]), ("1", "0"))
        self.assertEqual((rows["bounces.test"]["delivered"], rows["bounces.test"]["bounced"]), ("0", "1"))
        self.assertEqual((rows["drops.test"]["delivered"], rows["drops.test"]["bounced"]), ("0", "0"))
        text = relayscope.report(self.db).stdout
        self.assertRegex(text, r"(?i)delivered")

        # Mail that matches no probe is kept and counted, never dropped.
        with smtplib.SMTP(*where, timeout=10) as s:
            s.sendmail("someone@else.test", ["relay-test@" + DOMAIN],
                       b"Subject: not a probe\r\n\r\nhello\r\n")
        collector.stop()
        with open(collector.stdout_path) as f:
            self.assertIn("1 deliveries, 1 bounces, 0 delay warnings, 1 unmatched", f.read())
        kept = os.listdir(os.path.join(self.dir, "collected"))
        self.assertEqual(len([k for k in kept if k.endswith(".eml")]), 3, kept)

    def test_the_arrival_line_names_the_probe_and_its_run(self):
        collector, where = self.start_collector()
        addr = ports.random_loopback()
        port = ports.free_port(addr)
        queuer = Queuer()
        self.start_host(queuer, addr, port)
        self.start_dns({"late.test": addr, DOMAIN: where[0]})
        self.survey(["late.test"], port,
                    extra=["--mail-from", "probe@" + DOMAIN, "--rcpt-to", "relay-test@" + DOMAIN])
        self.assertEqual(len(queuer.kept), 1)
        # The late delivery, once the probe is stored.
        mail_from, rcpts, content = queuer.kept[0]
        with smtplib.SMTP(*where, timeout=10) as s:
            s.sendmail(mail_from, rcpts, content)
        with sqlite3.connect("file:%s?mode=ro" % self.db, uri=True) as db:
            probe, run, token = db.execute(
                "SELECT id, run_id, token FROM probes WHERE domain = 'late.test'").fetchone()
        self.assertTrue(token)

        def log():
            with open(collector.stderr_path, errors="replace") as f:
                return f.read()

        line = re.compile(r": collect: token=%s, probe=%d, run=%d, result=delivered, from=<%s>, "
                          r"client=\[[^]]+\]$" % (re.escape(token), probe, run, re.escape(mail_from)),
                          re.M)
        ports.wait_until(lambda: line.search(log()), 20, "the arrival line in the collector's log",
                         interval=0.05, alive=collector.alive)

    def test_bounces_to_an_untagged_sender_are_tied_by_the_returned_message(self):
        collector, where = self.start_collector()
        addrs = ports.distinct_loopbacks(2)
        port = ports.free_port_all(addrs)
        self.start_host(UntaggedBouncer(where, "base64"), addrs[0], port)
        self.start_host(UntaggedBouncer(where, "headers"), addrs[1], port)
        self.start_dns({"b64.test": addrs[0], "headers.test": addrs[1], DOMAIN: where[0]})
        self.survey(["b64.test", "headers.test"], port,
                    extra=["--mail-from", "probe@" + DOMAIN, "--rcpt-to", "relay-test@" + DOMAIN])
        rows = self.host_rows()
        for d in ("b64.test", "headers.test"):
            self.assertOutcome(rows[d], "OK")
            self.assertEqual((rows[d]["delivered"], rows[d]["bounced"]), ("0", "1"), rows[d])
        collector.stop()
        with open(collector.stdout_path) as f:
            self.assertIn("0 deliveries, 2 bounces, 0 delay warnings, 0 unmatched", f.read())

    def test_the_collector_relays_for_nobody(self):
        _, where = self.start_collector()
        spellings = ["user@remote.test", "user%remote.test@" + DOMAIN, "remote.test!user@" + DOMAIN,
                     '"user@remote.test"@' + DOMAIN, "@%s:user@remote.test" % DOMAIN,
                     "user@[127.0.0.1]", "remote.test!user"]
        with smtplib.SMTP(*where, timeout=10) as s:
            s.ehlo("tester.test")
            for rcpt in spellings:
                s.docmd("RSET")
                code, _ = s.docmd("MAIL FROM:<a@b.test>")
                self.assertEqual(code, 250)
                code, msg = s.docmd("RCPT TO:<%s>" % rcpt)
                self.assertGreaterEqual(code, 500, "%s was accepted: %s" % (rcpt, msg))
                if code == 421:
                    break
            s.docmd("RSET")
            s.docmd("MAIL FROM:<a@b.test>")
            code, _ = s.docmd("RCPT TO:<Relay-Test@COLLECTOR.test>")
            self.assertEqual(code, 250)


if __name__ == "__main__":
    unittest.main()
