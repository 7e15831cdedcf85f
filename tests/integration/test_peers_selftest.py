# Tests the shared peers themselves (tests/integration/peers) with ordinary
# clients: dig against our unbound, smtplib against Postfix + smtp-sink,
# aiosmtpd and the fake SMTP hosts. No relayscope involved.
import os
import smtplib
import socket
import time
import unittest
import uuid

from peers import aiosmtpd, dns, fake_smtp, ports, postfix, workdir


def smtp(addr, port, helo="selftest.test", source=None, timeout=10):
    return smtplib.SMTP(addr, port, local_hostname=helo, timeout=timeout,
                        source_address=(source, 0) if source else None)


class UnboundTest(unittest.TestCase):
    def test_answers_generated_zone_and_nothing_else(self):
        d = workdir.make_workdir(self)
        zone = dns.mx_zone({"a.test": "127.20.1.1"})
        zone.update({
            "two.test": {"mx": [(20, "mx2.two.test"), (10, "mx1.two.test")]},
            "mx1.two.test": ["127.20.2.1"],
            "bare.test": {"a": ["127.20.3.1"]},
            "nodata.test": {"nodata": True},
            "nullmx.test": {"mx": [(0, ".")]},
            "sf.test": {"servfail": True},
            "alias.test": {"cname": "a.test"},
        })
        u = dns.start_unbound(self, d, zone)
        q = lambda name, t: dns.dig(u.addr, u.port, name, t, short=True)
        self.assertEqual(q("a.test", "MX"), ("NOERROR", ["10 mx.a.test."]))
        self.assertEqual(q("mx.a.test", "A"), ("NOERROR", ["127.20.1.1"]))
        self.assertEqual(sorted(q("two.test", "MX")[1]), ["10 mx1.two.test.", "20 mx2.two.test."])
        self.assertEqual(q("bare.test", "MX"), ("NOERROR", []))
        self.assertEqual(q("bare.test", "A"), ("NOERROR", ["127.20.3.1"]))
        self.assertEqual(q("nodata.test", "MX"), ("NOERROR", []))
        self.assertEqual(q("missing.test", "MX"), ("NXDOMAIN", []))
        self.assertEqual(q("nullmx.test", "MX"), ("NOERROR", ["0 ."]))
        self.assertEqual(q("sf.test", "MX")[0], "SERVFAIL")
        self.assertEqual(q("alias.test", "MX"), ("NOERROR", ["a.test."]))
        # Outside .test it refuses instead of asking the Internet.
        self.assertEqual(q("example.com", "A")[0], "REFUSED")
        u.stop()
        self.assertFalse(u.proc.alive())


@unittest.skipUnless(os.geteuid() == 0, "a private Postfix needs root")
class PostfixTest(unittest.TestCase):
    def test_strangers_are_denied_and_local_clients_relay_to_the_sink(self):
        d = workdir.make_workdir(self)
        pf = postfix.start_postfix(self, d, mynetworks="127.0.0.2/32")
        with open(postfix.DEFAULT_MAIN_CF) as f:
            self.assertIn(pf.config_dir, f.read())
        # 127.0.0.1 is not in mynetworks: a stranger, denied at RCPT TO.
        with smtp(pf.addr, pf.port) as s:
            s.ehlo()
            self.assertEqual(s.mail("probe@sender.test")[0], 250)
            code, text = s.rcpt("victim@remote.test")
            self.assertEqual(code, 554)
            self.assertIn(b"5.7.1", text)
            self.assertIn(b"Relay access denied", text)
        # From 127.0.0.2 the same Postfix relays, and the sink gets the message.
        token = "selftest-" + uuid.uuid4().hex
        with smtp(pf.addr, pf.port, source="127.0.0.2") as s:
            s.sendmail("probe@sender.test", ["victim@remote.test"],
                       "Subject: relay test\r\nMessage-ID: <%s@selftest.test>\r\n\r\n%s\r\n" % (token, token))
        msg = pf.sink.wait_for(token)
        self.assertIn("X-Rcpt-Args: <victim@remote.test>", msg)
        self.assertIn("Message-ID: <%s@selftest.test>" % token, msg)
        pf.stop()
        self.assertFalse(ports.port_accepts(pf.addr, pf.port))
        with open(postfix.DEFAULT_MAIN_CF) as f:
            self.assertNotIn(pf.config_dir, f.read())


class AiosmtpdTest(unittest.TestCase):
    def test_accepts_and_keeps_the_message(self):
        d = workdir.make_workdir(self)
        a = aiosmtpd.start_aiosmtpd(self, d)
        token = "selftest-" + uuid.uuid4().hex
        with smtp(a.addr, a.port) as s:
            s.sendmail("probe@sender.test", ["victim@remote.test"], "Subject: x\r\n\r\n%s\r\n" % token)
        self.assertIn(token, a.wait_for(token))


class FakeSmtpTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)

    def start(self, *behaviours):
        addrs = ports.distinct_loopbacks(len(behaviours))
        hosts = [(a,) + (b if isinstance(b, tuple) else (b,)) for a, b in zip(addrs, behaviours)]
        f = fake_smtp.start_fake_smtp(self, self.dir, hosts, idle_timeout=20, hang_timeout=20)
        return f, addrs

    def test_scripted_replies(self):
        f, (ok, ehlo, data, dot, grey, rcpt) = self.start(
            "ok", "ehlo_unknown", "data_rejected", "reject_after_dot", "greylist_after_dot", "rcpt_450")
        msg = "Subject: x\r\n\r\n.dotted line TOKEN\r\n"
        with smtp(ok, f.port) as s:
            self.assertEqual(s.sendmail("a@s.test", ["b@r.test"], msg), {})
        with smtp(ehlo, f.port) as s:
            self.assertEqual(s.ehlo()[0], 500)
            self.assertEqual(s.helo()[0], 250)
            s.sendmail("a@s.test", ["b@r.test"], msg)
        for addr, code in ((data, 554), (dot, 554), (grey, 451)):
            with smtp(addr, f.port) as s:
                with self.assertRaises(smtplib.SMTPDataError) as cm:
                    s.sendmail("a@s.test", ["b@r.test"], msg)
                self.assertEqual(cm.exception.smtp_code, code)
        with smtp(rcpt, f.port) as s:
            s.ehlo()
            s.mail("a@s.test")
            self.assertEqual(s.rcpt("b@r.test")[0], 450)
        log = f.by_addr()
        self.assertEqual(log[ok][0]["helo"], "selftest.test")
        self.assertIn(".dotted line TOKEN", log[ok][0]["data"])  # un-stuffed
        self.assertEqual(log[ehlo][0]["commands"][:2], ["ehlo selftest.test", "helo selftest.test"])
        self.assertIsNone(log[data][0]["data"])
        self.assertIn("TOKEN", log[dot][0]["data"])
        self.assertFalse(any(r["early_talk"] for rs in log.values() for r in rs))

    def test_split_and_slow_replies_are_whole_replies(self):
        f, (split, slow) = self.start("split", ("slow_greeting", {"seconds": 1.0}))
        with socket.create_connection((split, f.port), timeout=10) as c:
            self.assertEqual(c.recv(1000), b"220-fake.test ESMTP fake\r\n220")
        with smtp(split, f.port) as s:
            code, text = s.ehlo()
            self.assertEqual(code, 250)
            self.assertIn(b"ENHANCEDSTATUSCODES", text)
        t0 = time.monotonic()
        with smtp(slow, f.port) as s:
            self.assertGreaterEqual(time.monotonic() - t0, 0.9)
            self.assertEqual(s.ehlo()[0], 250)

    def test_greet_pause_catches_early_talkers(self):
        f, (addr,) = self.start(("greet_pause", {"pause": 1.0}))
        with socket.create_connection((addr, f.port), timeout=10) as c:
            c.sendall(b"EHLO early.test\r\n")
            self.assertTrue(c.recv(200).startswith(b"554 "))
        with smtp(addr, f.port) as s:  # smtplib waits for the greeting
            self.assertEqual(s.ehlo()[0], 250)
        early = sorted(r["early_talk"] for r in f.connections())
        self.assertEqual(early, [False, True])

    def test_bad_manners(self):
        f, (nog, garbage, mega, reset) = self.start("no_greeting", "garbage", "megabyte", "reset")
        with socket.create_connection((nog, f.port), timeout=10) as c:
            c.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                c.recv(10)
        with smtp(garbage, f.port) as s:
            code, text = s.ehlo()
            self.assertEqual(code, -1)  # "hello there" has no reply code at all
        with socket.create_connection((mega, f.port), timeout=10) as c:
            c.recv(200)
            c.sendall(b"EHLO x.test\r\n")
            got = 0
            while True:
                b = c.recv(1 << 16)
                if not b:
                    break
                got += len(b)
            self.assertEqual(got, 1 << 20)
        with smtp(reset, f.port) as s:
            s.ehlo()
            with self.assertRaises((smtplib.SMTPServerDisconnected, ConnectionResetError)):
                s.mail("a@s.test")
        ends = {r["addr"]: r["end"] for r in f.connections()}
        self.assertEqual(ends[reset], "reset sent")
        self.assertEqual(ends[mega], "sent a megabyte line")
        self.assertIn("client closed", ends[nog])


if __name__ == "__main__":
    unittest.main()
