# The relay's delivery half with real peers on loopback: Postfix's smtp-sink
# and an aiosmtpd-based sink as smarthost, MX delivery through a private
# unbound, retries after 450, RFC 3464 bounces to a local sender's Maildir
# (never to the null sender), and `relayscope queue` list / flush.
import email
import email.policy
import os
import time
import unittest
import uuid

from peers import dns, ports, postfix, workdir
from peers.relay_delivery import LOCAL_CLIENT, STRANGER, start_relay
from peers.relay_delivery_sink import start_sink


def token():
    return "tok-" + uuid.uuid4().hex


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


class RelayDeliveryTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self, "relayscope-delivery-")

    def smarthost_relay(self, sink, retry=("1s",), **kw):
        return start_relay(self, self.dir, delivery={"smarthost": "%s:%d" % (sink.addr, sink.port),
                                                     "retry": list(retry)}, **kw)

    def assertDsn(self, raw, recipient, status, original_token):
        """An RFC 3464 report: multipart/report; report-type=delivery-status, a
        message/delivery-status part naming the recipient, Action: failed and
        the status, and the returned message with its token."""
        m = parse(raw)
        self.assertEqual(m.get_content_type(), "multipart/report", raw)
        self.assertEqual(m.get_param("report-type"), "delivery-status")
        self.assertIn("MAILER-DAEMON@", m["From"])
        parts = m.get_payload()
        self.assertEqual(parts[0].get_content_type(), "text/plain")
        self.assertEqual(parts[1].get_content_type(), "message/delivery-status")
        groups = parts[1].get_payload()  # per-message fields, then one per recipient
        self.assertIn("dns; ", groups[0]["Reporting-MTA"])
        rcpt = [g for g in groups[1:] if recipient in (g["Final-Recipient"] or "")]
        self.assertEqual(len(rcpt), 1, raw)
        self.assertEqual(rcpt[0]["Final-Recipient"], "rfc822; " + recipient)
        self.assertEqual(rcpt[0]["Action"], "failed")
        self.assertEqual(rcpt[0]["Status"], status)
        self.assertEqual(parts[2].get_content_type(), "message/rfc822")
        self.assertIn(original_token, parts[2].as_string())
        return m

    def test_smarthost_postfix_smtp_sink_gets_the_message(self):
        sink = postfix.SmtpSink(self.dir, ports.random_loopback())
        self.addCleanup(sink.stop)
        sink.wait_ready()
        relay = self.smarthost_relay(sink)
        t = token()
        refused = relay.send("alice@example.test", ["bob@remote.test"], "body " + t,
                             source=LOCAL_CLIENT)
        self.assertEqual(refused, {})
        got = sink.wait_for(t)
        # smtp-sink's dump names the envelope it was given.
        self.assertIn("X-Mail-Args: <alice@example.test>", got)
        self.assertIn("X-Rcpt-Args: <bob@remote.test>", got)
        self.assertIn("by mx.example.test (relayscope)", got)
        relay.wait_queue_empty()
        self.assertEqual(len([m for m in sink.messages() if t in m]), 1)

    def test_smarthost_gets_envelope_and_body_intact(self):
        sink = start_sink(self, self.dir)
        relay = self.smarthost_relay(sink)
        t = token()
        # A line starting with a dot must survive dot-stuffing both ways.
        body = "first line %s\r\n.leading dot\r\n..two dots\r\nlast" % t
        relay.send("alice@client.example.org", ["bob@remote.test", "carol@other.test"], body,
                   source=LOCAL_CLIENT)
        m = sink.wait_for(t)
        self.assertEqual(m["mail_from"], "alice@client.example.org")
        self.assertEqual(sorted(m["rcpts"]), ["bob@remote.test", "carol@other.test"])
        self.assertIn("\r\n.leading dot\r\n..two dots\r\nlast\r\n", m["data"])
        self.assertTrue(m["data"].startswith("Received: from client.example.org ([127.0.0.2])"),
                        m["data"][:200])
        relay.wait_queue_empty()
        self.assertEqual(len(sink.messages()), 1, "one transaction for both recipients")

    def test_delivery_by_mx_through_loopback_dns(self):
        mx_addr = ports.random_loopback()
        sink = start_sink(self, self.dir, addr=mx_addr)
        # The A-only domain is delivered to its own address (RFC 5321 5.1).
        a_addr = ports.random_loopback()
        a_sink = start_sink(self, self.dir, addr=a_addr, port=sink.port)
        unbound = dns.start_unbound(self, self.dir, {
            "remote.test": {"mx": [(10, "mx1.remote.test")]},
            "mx1.remote.test": [mx_addr],
            "aonly.test": [a_addr],
        })
        relay = start_relay(self, self.dir, delivery={
            "dns": ["%s:%d" % (unbound.addr, unbound.port)], "port": sink.port,
            "retry": ["1s"]})
        t = token()
        relay.send("alice@example.test",
                   ["bob@remote.test", "carol@aonly.test", "dave@nowhere.test"], "mx " + t,
                   source=LOCAL_CLIENT)
        m = sink.wait_for(t)
        self.assertEqual(m["rcpts"], ["bob@remote.test"])
        self.assertEqual(m["mail_from"], "alice@example.test")
        self.assertEqual(a_sink.wait_for(t)["rcpts"], ["carol@aonly.test"])
        # nowhere.test does not exist: a bounce, at once, to the local sender.
        dsn = relay.wait_maildir("alice@example.test", "dave@nowhere.test")
        self.assertDsn(dsn, "dave@nowhere.test", "5.1.2", t)
        relay.wait_queue_empty()

    def test_450_then_250_is_delivered_on_retry(self):
        sink = start_sink(self, self.dir)
        relay = self.smarthost_relay(sink, retry=("2s",))
        t = token()
        relay.send("alice@example.test", ["tempfail-a@remote.test"], "retry " + t,
                   source=LOCAL_CLIENT)
        relay.wait_log(r"to=<tempfail-a@remote.test>, .*status=deferred")
        first = time.monotonic()
        self.assertEqual(sink.messages(), [], "no message after the 450")
        m = sink.wait_for(t, timeout=30)
        waited = time.monotonic() - first
        self.assertEqual(m["rcpts"], ["tempfail-a@remote.test"])
        self.assertEqual(sink.rcpt_log(), [("tempfail-a@remote.test", 450),
                                           ("tempfail-a@remote.test", 250)])
        # The retry waited for the schedule (2 s), not a busy loop.
        self.assertGreater(waited, 1.0)
        relay.wait_queue_empty()
        self.assertEqual(relay.maildir_messages("alice@example.test"), [], "no bounce")

    def test_550_gives_an_rfc3464_bounce_in_the_senders_maildir(self):
        sink = start_sink(self, self.dir)
        relay = self.smarthost_relay(sink)
        t = token()
        # A stranger may send to a local mailbox only; the local client relays.
        relay.send("alice@example.test", ["reject-x@remote.test", "bob@remote.test"],
                   "bounce " + t, source=LOCAL_CLIENT)
        raw = relay.wait_maildir("alice@example.test", "reject-x@remote.test")
        m = self.assertDsn(raw, "reject-x@remote.test", "5.1.1", t)
        self.assertTrue(raw.startswith(b"Return-Path: <>\r\n"), raw[:100])
        text = raw.decode()
        self.assertIn("Diagnostic-Code: smtp; 550 5.1.1", text)
        self.assertIn("Remote-MTA: dns; " + sink.addr + "\r\n", text)
        self.assertEqual(m["To"], "<alice@example.test>")
        # The recipient that took it is not in the bounce, and got it once.
        self.assertNotIn("bob@remote.test", m.get_payload()[1].as_string())
        self.assertEqual(sink.wait_for(t)["rcpts"], ["bob@remote.test"])
        relay.wait_queue_empty()
        self.assertEqual(len(relay.maildir_messages("alice@example.test")), 1)

    def test_no_bounce_to_the_null_sender(self):
        sink = start_sink(self, self.dir)
        relay = self.smarthost_relay(sink)
        t = token()
        relay.send("", ["reject-y@remote.test"], "null " + t, source=LOCAL_CLIENT)
        relay.wait_log(r"to=<reject-y@remote.test>, .*status=bounced")
        relay.wait_queue_empty()
        relay.wait_log(r"null sender: no DSN")
        # Nothing was written anywhere: no Maildir, no message at the sink.
        self.assertEqual(sink.messages(), [])
        self.assertFalse(os.path.exists(relay.mailbox_root) and any(
            files for _, _, files in os.walk(relay.mailbox_root)))

    def test_bounce_of_a_remote_sender_goes_through_the_smarthost(self):
        sink = start_sink(self, self.dir)
        relay = self.smarthost_relay(sink)
        t = token()
        relay.send("zed@client.example.org", ["reject-z@remote.test"], "remote " + t,
                   source=LOCAL_CLIENT)
        dsn = sink.wait_for(t)
        self.assertIn(dsn["mail_from"], ("", "<>"), "a DSN comes from the null sender")
        self.assertEqual(dsn["rcpts"], ["zed@client.example.org"])
        self.assertDsn(dsn["data"].encode(), "reject-z@remote.test", "5.1.1", t)
        relay.wait_queue_empty()

    def test_too_long_in_the_queue_gives_a_bounce(self):
        # Nothing listens at the smarthost: every attempt fails for a while.
        down = ports.random_loopback()
        relay = start_relay(self, self.dir, delivery={
            "smarthost": "%s:%d" % (down, ports.free_port(down)), "retry": ["500ms"],
            "max_queue_time": "2s"})
        t = token()
        relay.send("alice@example.test", ["bob@remote.test"], "expire " + t, source=LOCAL_CLIENT)
        relay.wait_log(r"to=<bob@remote.test>, .*status=deferred")
        raw = relay.wait_maildir("alice@example.test", "bob@remote.test", timeout=30)
        self.assertDsn(raw, "bob@remote.test", "5.4.7", t)
        self.assertIn(b"delivery time expired", raw)
        relay.wait_queue_empty()

    def test_queue_lists_and_flush_retries_now(self):
        sink = start_sink(self, self.dir)
        relay = self.smarthost_relay(sink, retry=("1h",))
        r = relay.queue()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 messages in the queue", r.stdout)
        t = token()
        relay.send("alice@example.test", ["tempfail-q@remote.test"], "queue " + t,
                   source=LOCAL_CLIENT)
        relay.wait_log(r"to=<tempfail-q@remote.test>, .*status=deferred")
        ids = relay.queued_ids()
        self.assertEqual(len(ids), 1)

        def listed():
            out = relay.queue()
            return out if "attempts 1" in out.stdout else None
        out = ports.wait_until(listed, 10, "the queue listing to show one attempt").stdout
        self.assertIn(ids[0], out)
        self.assertIn("from <alice@example.test>", out)
        self.assertIn("<tempfail-q@remote.test>  pending", out)
        self.assertIn("last error: <tempfail-q@remote.test>: 450 4.2.0", out)
        self.assertIn("1 message in the queue", out)
        # The next retry is an hour away...
        next_retry = out.split("next retry ")[1].split()[0]
        due = time.mktime(time.strptime(next_retry, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertGreater(due - time.time(), 3000)
        self.assertEqual(sink.messages(), [])
        # ...but a flush tries it now.
        f = relay.queue("flush")
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual(sink.wait_for(t, timeout=20)["rcpts"], ["tempfail-q@remote.test"])
        relay.wait_queue_empty()
        self.assertIn("0 messages in the queue", relay.queue().stdout)

    def test_queue_flush_without_a_running_relay_is_a_clear_error(self):
        sink = start_sink(self, self.dir)
        relay = self.smarthost_relay(sink)
        relay.stop()
        r = relay.queue("flush")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("no relayscope relay runs", r.stderr)
        # Listing works on a stopped relay's spool.
        self.assertEqual(relay.queue().returncode, 0)

    def test_stranger_to_local_mailbox_is_delivered_to_maildir(self):
        sink = start_sink(self, self.dir)
        relay = self.smarthost_relay(sink, users=("bob",))
        t = token()
        relay.send("someone@client.example.org", ["Bob@Example.Test"], "local " + t,
                   source=STRANGER)
        raw = relay.wait_maildir("bob@example.test", t)
        self.assertTrue(raw.startswith(b"Return-Path: <someone@client.example.org>\r\n"
                                       b"Delivered-To: bob@example.test\r\n"), raw[:200])
        relay.wait_queue_empty()
        # Maildir delivery goes through tmp/ and leaves nothing there.
        tmp = os.path.join(relay.mailbox_root, "example.test", "bob", "tmp")
        self.assertEqual(os.listdir(tmp), [])


if __name__ == "__main__":
    unittest.main()
