# The relay's SMTP session with real clients on loopback (issue 4): swaks and
# Python's smtplib for the four rules, STARTTLS and AUTH; raw sockets for the
# limits and the smuggling defence. Local networks are 127.0.0.2/32: a client
# bound to 127.0.0.2 is local, one bound to 127.0.0.1 is a stranger.
import base64
import os
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import unittest
import uuid

from peers import aiosmtpd, ports, relay
from peers.relay import LOCAL_CLIENT, STRANGER, read_reply, wait_closed

PASSWORD = "correct horse battery staple"
LIMITS = """
[limits]
max_message_size = 20000
max_recipients = 3
max_errors = 5
"""


def swaks_has_tls():
    """swaks needs Perl's Net::SSLeay (TLS) and Authen::SASL (AUTH); both are
    in scripts/bootstrap (libnet-ssleay-perl, libauthen-sasl-perl)."""
    r = subprocess.run(["perl", "-MNet::SSLeay", "-MAuthen::SASL", "-e", "1"],
                       capture_output=True)
    return r.returncode == 0


SWAKS_TLS = swaks_has_tls()


def token():
    return "tok-" + uuid.uuid4().hex


def reply_line(code):
    """A regex for a reply line with `code` in swaks' transcript ("<-  235 ...",
    "<~  ...", "<** ..."): the bare number may also stand in an address or a
    port of the transcript."""
    return r"(?m)^<\S* +%d[ -]" % code


class RelayCase(unittest.TestCase):
    """One relay (with a users file and TLS) shared by the tests of a class;
    remote mail goes to an aiosmtpd smarthost."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="relayscope-relay-session-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        os.chmod(cls.dir, 0o755)
        cls.sink = aiosmtpd.Aiosmtpd(cls.dir)
        cls.addClassCleanup(cls.sink.stop)
        cls.sink.wait_ready()
        cls.relay = relay.Relay(cls.dir, users={"alice": PASSWORD},
                                smarthost="%s:%d" % (cls.sink.addr, cls.sink.port),
                                extra=LIMITS)
        cls.addClassCleanup(cls.relay.stop)
        cls.relay.start()

    def fail_with_log(self, msg):
        self.fail("%s\n%s" % (msg, self.relay.output()))

    # A raw session: returns (socket, file) after the greeting and EHLO.
    def session(self, source=STRANGER, ehlo=True):
        s = self.relay.connect(source)
        self.addCleanup(s.close)
        f = s.makefile("rb")
        self.addCleanup(f.close)
        code, _ = read_reply(f)
        self.assertEqual(code, 220)
        if ehlo:
            s.sendall(b"EHLO client.example.org\r\n")
            code, lines = read_reply(f)
            self.assertEqual(code, 250)
        return s, f

    def command(self, s, f, line):
        s.sendall(line if isinstance(line, bytes) else line.encode() + b"\r\n")
        return read_reply(f)


class SwaksTest(RelayCase):
    def test_local_client_relays_to_a_remote_mailbox(self):
        t = token()
        r = self.relay.swaks("--from", "alice@example.test", "--to", "carol@remote.example.org",
                             "--header", "Subject: " + t, source=LOCAL_CLIENT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"<-  250 2\.1\.5")
        self.assertRegex(r.stdout, r"<-  250 2\.0\.0 Ok: queued as ")
        # Forwarded to the smarthost (the message had been spooled first).
        got = self.sink.wait_for(t, timeout=30)
        self.assertIn("carol@remote.example.org", got)

    def test_stranger_is_refused_at_rcpt_for_a_remote_mailbox(self):
        r = self.relay.swaks("--from", "spam@spammer.example", "--to", "victim@remote.example.org",
                             source=STRANGER)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"-> RCPT TO:<victim@remote\.example\.org>\n<\*\* +554 5\.7\.1")
        self.assertNotRegex(r.stdout, reply_line(354))

    def test_stranger_to_a_local_mailbox_is_delivered_to_the_maildir(self):
        t = token()
        r = self.relay.swaks("--from", "friend@remote.example.org", "--to", "alice@example.test",
                             "--body", "body " + t, source=STRANGER)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        msg = self.relay.wait_maildir("alice@example.test", t)
        self.assertIn("Delivered-To: alice@example.test", msg)
        self.assertIn("Received: from client.example.org", msg)

    @unittest.skipUnless(SWAKS_TLS, "swaks without Net::SSLeay/Authen::SASL")
    def test_auth_plain_after_starttls_relays_for_a_stranger(self):
        t = token()
        r = self.relay.swaks("--from", "alice@example.test", "--to", "dave@remote.example.org",
                             "--header", "Subject: " + t, "--tls", "--auth", "PLAIN",
                             "--auth-user", "alice", "--auth-password", PASSWORD,
                             source=STRANGER)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("235 2.7.0", r.stdout)
        self.assertRegex(r.stdout, r"RCPT TO:<dave@remote\.example\.org>\n<~  250 2\.1\.5")
        self.sink.wait_for(t, timeout=30)

    @unittest.skipUnless(SWAKS_TLS, "swaks without Net::SSLeay/Authen::SASL")
    def test_auth_login_after_starttls_works_too(self):
        r = self.relay.swaks("--from", "alice@example.test", "--to", "erin@remote.example.org",
                             "--tls", "--auth", "LOGIN", "--auth-user", "alice",
                             "--auth-password", PASSWORD, "--quit-after", "RCPT",
                             source=STRANGER)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"RCPT TO:<erin@remote\.example\.org>\n<~  250 2\.1\.5")

    def test_auth_is_not_offered_before_starttls(self):
        r = self.relay.swaks("--to", "dave@remote.example.org", "--auth", "PLAIN",
                             "--auth-user", "alice", "--auth-password", PASSWORD,
                             source=STRANGER)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("250 STARTTLS", r.stdout)
        self.assertNotIn("AUTH PLAIN", r.stdout.split("-> MAIL")[0].split("EHLO", 1)[1])
        self.assertNotRegex(r.stdout, reply_line(235))

    @unittest.skipUnless(SWAKS_TLS, "swaks without Net::SSLeay/Authen::SASL")
    def test_wrong_password_is_refused(self):
        r = self.relay.swaks("--to", "dave@remote.example.org", "--tls", "--auth", "PLAIN",
                             "--auth-user", "alice", "--auth-password", "wrong",
                             source=STRANGER)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("535 5.7.8", r.stdout)


class SmtplibTest(RelayCase):
    def smtp(self, source):
        c = smtplib.SMTP(self.relay.addr, self.relay.port, local_hostname="client.example.org",
                         timeout=20, source_address=(source, 0))
        self.addCleanup(c.close)
        return c

    def test_local_client_sends_to_a_remote_mailbox(self):
        t = token()
        c = self.smtp(LOCAL_CLIENT)
        refused = c.sendmail("alice@example.test", ["frank@remote.example.org"],
                             "Subject: %s\r\n\r\nhello\r\n" % t)
        self.assertEqual(refused, {})
        c.quit()
        self.sink.wait_for(t, timeout=30)

    def test_stranger_relaying_raises_recipients_refused(self):
        c = self.smtp(STRANGER)
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            c.sendmail("spam@spammer.example", ["victim@remote.example.org"], "Subject: x\r\n\r\nx\r\n")
        code, text = cm.exception.recipients["victim@remote.example.org"]
        self.assertEqual(code, 554)
        self.assertTrue(text.startswith(b"5.7.1"), text)

    def test_stranger_to_a_local_mailbox_is_delivered(self):
        t = token()
        c = self.smtp(STRANGER)
        c.sendmail("friend@remote.example.org", ["alice@example.test"], "Subject: %s\r\n\r\nhi\r\n" % t)
        c.quit()
        self.relay.wait_maildir("alice@example.test", t)

    def test_starttls_login_then_relay(self):
        t = token()
        c = self.smtp(STRANGER)
        c.ehlo()
        self.assertTrue(c.has_extn("starttls"))
        self.assertFalse(c.has_extn("auth"))
        with self.assertRaises(smtplib.SMTPNotSupportedError):
            c.login("alice", PASSWORD)
        c.starttls(context=self.relay.client_context())
        c.ehlo()
        self.assertIn("PLAIN", c.esmtp_features.get("auth", ""))
        self.assertFalse(c.has_extn("starttls"))
        code, _ = c.login("alice", PASSWORD)
        self.assertEqual(code, 235)
        refused = c.sendmail("alice@example.test", ["grace@remote.example.org"],
                             "Subject: %s\r\n\r\nvia auth\r\n" % t)
        self.assertEqual(refused, {})
        c.quit()
        self.sink.wait_for(t, timeout=30)

    def test_bad_password_raises_authentication_error(self):
        c = self.smtp(STRANGER)
        c.starttls(context=self.relay.client_context())
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            c.login("alice", "not the password")
        self.assertEqual(cm.exception.smtp_code, 535)
        # Still a stranger: relaying stays closed.
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            c.sendmail("a@example.test", ["victim@remote.example.org"], "Subject: x\r\n\r\nx\r\n")


class AuthLimitTest(RelayCase):
    def test_auth_failures_are_limited_then_disconnect(self):
        c = smtplib.SMTP(self.relay.addr, self.relay.port, local_hostname="client.example.org",
                         timeout=20, source_address=(STRANGER, 0))
        self.addCleanup(c.close)
        c.starttls(context=self.relay.client_context())
        c.ehlo()
        for _ in range(2):
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                c.login("alice", "guess")
        # The third failure (max_auth_failures = 3) ends the session: 535, 421.
        with self.assertRaises(smtplib.SMTPException):
            c.login("alice", "guess")
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            c.noop()
            c.noop()

    def test_users_file_is_reloaded_on_sighup(self):
        relay.add_user(self.relay.users_file, "bob", "bobs password")
        os.kill(self.relay.proc.pid, signal.SIGHUP)

        def bob_logs_in():
            c = smtplib.SMTP(self.relay.addr, self.relay.port, timeout=20,
                             source_address=(STRANGER, 0))
            try:
                c.starttls(context=self.relay.client_context())
                c.login("bob", "bobs password")
                return True
            except smtplib.SMTPAuthenticationError:
                return False
            finally:
                c.close()

        ports.wait_until(bob_logs_in, 20, "bob to log in after SIGHUP", interval=0.2,
                         alive=self.relay.proc.alive)


class ConnectionLimitTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="relayscope-relay-limits-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.relay = relay.start_relay(self, self.dir, tls=False,
                                       extra="[limits]\nmax_connections_per_ip = 2\n")

    def greeting(self, source):
        s = self.relay.connect(source)
        self.addCleanup(s.close)
        f = s.makefile("rb")
        self.addCleanup(f.close)
        return read_reply(f)

    def test_connections_per_client_address_are_limited(self):
        self.assertEqual(self.greeting(STRANGER)[0], 220)
        self.assertEqual(self.greeting(STRANGER)[0], 220)
        code, lines = self.greeting(STRANGER)
        self.assertEqual(code, 421)
        self.assertIn("4.7.0", lines[0])
        # Another address is not held back by the first one's connections.
        self.assertEqual(self.greeting(LOCAL_CLIENT)[0], 220)


class IdleTimeoutTest(unittest.TestCase):
    def test_an_idle_client_gets_421_and_is_disconnected(self):
        d = tempfile.mkdtemp(prefix="relayscope-relay-idle-")
        self.addCleanup(shutil.rmtree, d, True)
        r = relay.start_relay(self, d, tls=False,
                              extra='[timeouts]\nidle = "1s"\ncommand = "2s"\n')
        for in_mail in (False, True):
            with self.subTest(in_mail=in_mail):
                s = r.connect(STRANGER, timeout=15)
                self.addCleanup(s.close)
                f = s.makefile("rb")
                self.addCleanup(f.close)
                self.assertEqual(read_reply(f)[0], 220)
                s.sendall(b"EHLO client.example.org\r\n")
                self.assertEqual(read_reply(f)[0], 250)
                if in_mail:
                    s.sendall(b"MAIL FROM:<a@remote.example.org>\r\n")
                    self.assertEqual(read_reply(f)[0], 250)
                code, lines = read_reply(f)  # nothing sent: the server speaks first
                self.assertEqual(code, 421, lines)
                self.assertIn("4.4.2", lines[0])
                self.assertTrue(wait_closed(s))


@unittest.skipUnless(os.geteuid() == 0, "needs root to drop privileges")
class PrivilegeTest(unittest.TestCase):
    def test_started_as_root_it_runs_as_the_configured_user(self):
        d = tempfile.mkdtemp(prefix="relayscope-relay-user-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        nobody = pwd.getpwnam("nobody")
        r = relay.start_relay(self, d, tls=False, user="nobody")
        with open("/proc/%d/status" % r.proc.pid) as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
        self.assertEqual(set(int(u) for u in uids), {nobody.pw_uid})
        # And it still keeps and delivers mail as that user.
        t = token()
        res = r.swaks("--to", "postmaster@example.test", "--body", t, source=STRANGER)
        self.assertEqual(res.returncode, 0, res.stdout + r.output())
        r.wait_maildir("postmaster@example.test", t)


class RawSessionTest(RelayCase):
    def test_auth_before_starttls_is_refused(self):
        s, f = self.session()
        creds = base64.b64encode(b"\0alice\0" + PASSWORD.encode()).decode()
        code, lines = self.command(s, f, "AUTH PLAIN " + creds)
        self.assertEqual(code, 530)
        self.assertIn("5.7.0", lines[0])
        code, lines = self.command(s, f, "MAIL FROM:<alice@example.test>")
        self.assertEqual(code, 250)
        code, lines = self.command(s, f, "RCPT TO:<victim@remote.example.org>")
        self.assertEqual(code, 554)

    def test_pipelined_group_gets_every_reply_in_order(self):
        s, f = self.session(source=LOCAL_CLIENT)
        t = token()
        s.sendall(b"MAIL FROM:<a@remote.example.org>\r\nRCPT TO:<alice@example.test>\r\n"
                  b"RCPT TO:<victim@remote.example.org>\r\nRCPT TO:<bad path>\r\nDATA\r\n")
        codes = [read_reply(f)[0] for _ in range(5)]
        self.assertEqual(codes, [250, 250, 250, 501, 354])
        s.sendall(("Subject: %s\r\n\r\npipelined\r\n.\r\nQUIT\r\n" % t).encode())
        self.assertEqual(read_reply(f)[0], 250)
        self.assertEqual(read_reply(f)[0], 221)
        self.relay.wait_maildir("alice@example.test", t)
        self.sink.wait_for(t, timeout=30)

    def tls_session(self):
        s, f = self.session()
        self.assertEqual(self.command(s, f, "STARTTLS")[0], 220)
        tls = self.relay.client_context().wrap_socket(s, server_hostname=self.relay.hostname)
        self.addCleanup(tls.close)
        tf = tls.makefile("rb")
        self.addCleanup(tf.close)
        self.assertEqual(self.command(tls, tf, "EHLO client.example.org")[0], 250)
        return tls, tf

    def test_auth_plain_with_a_challenge_and_cancel(self):
        tls, tf = self.tls_session()
        code, lines = self.command(tls, tf, "AUTH PLAIN")
        self.assertEqual(code, 334)
        self.assertEqual(self.command(tls, tf, "*")[0], 501)
        self.assertEqual(self.command(tls, tf, "AUTH CRAM-MD5")[0], 504)
        self.assertEqual(self.command(tls, tf, "AUTH PLAIN")[0], 334)
        creds = base64.b64encode(b"\0alice\0" + PASSWORD.encode()).decode()
        code, lines = self.command(tls, tf, creds)
        self.assertEqual(code, 235, lines)
        self.assertEqual(self.command(tls, tf, "AUTH PLAIN " + creds)[0], 503)
        self.assertEqual(self.command(tls, tf, "MAIL FROM:<alice@example.test>")[0], 250)
        self.assertEqual(self.command(tls, tf, "RCPT TO:<victim@remote.example.org>")[0], 250)

    def test_auth_login_with_challenges(self):
        tls, tf = self.tls_session()
        code, lines = self.command(tls, tf, "AUTH LOGIN")
        self.assertEqual((code, lines[0]), (334, "334 VXNlcm5hbWU6"))
        code, lines = self.command(tls, tf, base64.b64encode(b"alice").decode())
        self.assertEqual((code, lines[0]), (334, "334 UGFzc3dvcmQ6"))
        code, lines = self.command(tls, tf, base64.b64encode(PASSWORD.encode()).decode())
        self.assertEqual(code, 235, lines)

    def test_vrfy_help_noop_rset(self):
        s, f = self.session()
        self.assertEqual(self.command(s, f, "VRFY bob")[0], 252)
        code, lines = self.command(s, f, "HELP")
        self.assertEqual(code, 214)
        self.assertEqual(self.command(s, f, "NOOP")[0], 250)
        self.assertEqual(self.command(s, f, "MAIL FROM:<a@remote.example.org>")[0], 250)
        self.assertEqual(self.command(s, f, "RSET")[0], 250)
        # RSET ended the transaction: RCPT now needs a MAIL first.
        self.assertEqual(self.command(s, f, "RCPT TO:<alice@example.test>")[0], 503)
        self.assertEqual(self.command(s, f, "QUIT")[0], 221)

    def test_talking_before_the_greeting_is_refused(self):
        s = self.relay.connect(STRANGER)
        self.addCleanup(s.close)
        s.sendall(b"EHLO eager.example.org\r\n")
        f = s.makefile("rb")
        self.addCleanup(f.close)
        code, lines = read_reply(f)
        self.assertEqual(code, 554)
        self.assertTrue(wait_closed(s))

    def test_an_endless_line_gets_500_and_the_session_goes_on(self):
        s, f = self.session()
        s.sendall(b"NOOP " + b"A" * 200000)
        code, lines = read_reply(f)
        self.assertEqual(code, 500)
        self.assertIn("5.5.6", lines[0])
        s.sendall(b"A" * 100000 + b"\r\n")
        self.assertEqual(self.command(s, f, "NOOP")[0], 250)

    def test_too_many_errors_then_disconnect(self):
        s, f = self.session()
        codes = []
        for _ in range(4):
            codes.append(self.command(s, f, "BOGUS")[0])
        self.assertEqual(codes, [500] * 4)
        s.sendall(b"BOGUS\r\n")
        code, lines = read_reply(f)  # the fifth error: its 500 and a 421 together
        self.assertEqual(code, 500)
        code, lines = read_reply(f)
        self.assertEqual(code, 421)
        self.assertTrue(wait_closed(s))

    def test_commands_pipelined_behind_starttls_are_discarded(self):
        s, f = self.session()
        s.sendall(b"STARTTLS\r\nHELP\r\n")
        code, _ = read_reply(f)
        self.assertEqual(code, 220)
        tls = self.relay.client_context().wrap_socket(s, server_hostname=self.relay.hostname)
        self.addCleanup(tls.close)
        tf = tls.makefile("rb")
        self.addCleanup(tf.close)
        tls.sendall(b"NOOP\r\n")
        code, lines = read_reply(tf)
        self.assertEqual(code, 250, lines)  # a 214 would be the HELP executed
        # RFC 3207 4.2: the session starts over; MAIL needs a new EHLO.
        tls.sendall(b"MAIL FROM:<a@remote.example.org>\r\n")
        self.assertEqual(read_reply(tf)[0], 503)
        tls.sendall(b"EHLO client.example.org\r\n")
        code, lines = read_reply(tf)
        self.assertEqual(code, 250)
        self.assertTrue(any("AUTH PLAIN LOGIN" in l for l in lines), lines)
        self.assertFalse(any("STARTTLS" in l for l in lines), lines)

    def test_size_over_the_limit_is_refused(self):
        s, f = self.session()
        code, lines = self.command(s, f, "MAIL FROM:<a@remote.example.org> SIZE=30000")
        self.assertEqual(code, 552)
        self.assertEqual(self.command(s, f, "MAIL FROM:<a@remote.example.org> SIZE=1000")[0], 250)
        self.assertEqual(self.command(s, f, "RCPT TO:<alice@example.test>")[0], 250)
        self.assertEqual(self.command(s, f, "DATA")[0], 354)
        t = token()
        body = ("Subject: %s\r\n\r\n" % t + ("x" * 70 + "\r\n") * 400 + ".\r\n").encode()
        code, lines = self.command(s, f, body)
        self.assertEqual(code, 552)
        self.assertEqual(self.command(s, f, "NOOP")[0], 250)
        self.assertFalse(any(t in m for m in self.relay.maildir_messages("alice@example.test")))

    def test_recipients_per_message_are_limited(self):
        s, f = self.session()
        self.assertEqual(self.command(s, f, "MAIL FROM:<a@remote.example.org>")[0], 250)
        for rcpt in ("alice@example.test", "Alice@example.test", "postmaster@example.test"):
            self.assertEqual(self.command(s, f, "RCPT TO:<%s>" % rcpt)[0], 250)
        code, lines = self.command(s, f, "RCPT TO:<alice@example.test>")
        self.assertEqual(code, 452)
        self.assertIn("4.5.3", lines[0])

    def test_smuggled_line_endings_never_end_a_message(self):
        for seq in (b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n"):
            with self.subTest(seq=seq):
                t = token()
                s, f = self.session()
                self.assertEqual(self.command(s, f, "MAIL FROM:<a@remote.example.org>")[0], 250)
                self.assertEqual(self.command(s, f, "RCPT TO:<alice@example.test>")[0], 250)
                self.assertEqual(self.command(s, f, "DATA")[0], 354)
                smuggled = (b"Subject: " + t.encode() + b"\r\n\r\nfirst" + seq +
                            b"MAIL FROM:<evil@remote.example.org>\r\n"
                            b"RCPT TO:<alice@example.test>\r\nDATA\r\n"
                            b"Subject: smuggled " + t.encode() + b"\r\n\r\nsecond\r\n.\r\n")
                s.sendall(smuggled)
                code, lines = read_reply(f)
                # Refused as a whole at the real end; no reply for a second MAIL.
                self.assertEqual(code, 554, lines)
                self.assertIn("5.6.11", lines[0])
                code, lines = self.command(s, f, "NOOP")
                self.assertEqual(code, 250, lines)
                # And the state is clean: no transaction left open.
                self.assertEqual(self.command(s, f, "RCPT TO:<alice@example.test>")[0], 503)
                self.command(s, f, "QUIT")
                self.assertFalse(any(t in m for m in self.relay.maildir_messages("alice@example.test")))

    def test_clean_message_with_dot_stuffing_is_one_message(self):
        t = token()
        s, f = self.session()
        self.assertEqual(self.command(s, f, "MAIL FROM:<a@remote.example.org>")[0], 250)
        self.assertEqual(self.command(s, f, "RCPT TO:<alice@example.test>")[0], 250)
        self.assertEqual(self.command(s, f, "DATA")[0], 354)
        code, _ = self.command(s, f, ("Subject: %s\r\n\r\nline\r\n..not the end\r\n.\r\n" % t).encode())
        self.assertEqual(code, 250)
        self.command(s, f, "QUIT")
        msg = self.relay.wait_maildir("alice@example.test", t)
        self.assertIn("\r\n.not the end\r\n", msg)
        self.assertEqual(sum(t in m for m in self.relay.maildir_messages("alice@example.test")), 1)


if __name__ == "__main__":
    unittest.main()
