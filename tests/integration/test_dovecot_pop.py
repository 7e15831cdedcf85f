# Dovecot serves the relay's Maildirs with the relay's users file (issue 14,
# 5.): a private Dovecot on loopback, configured with the README's lines,
# reads the users file `relayscope passwd` wrote (argon2id) and the Maildir
# the relay delivered into; Python's poplib logs in as NAME@DOMAIN from
# 127.0.0.3 and reads the message, curl's pop3:// is a second client, and
# Dovecot's postlogin script runs `relayscope relay-window grant`, whose
# window `relay-window list` shows. The window then lets that address relay
# without AUTH on the relay's mx listener until it ends (554 5.7.1 again,
# without a restart); 127.0.0.4, which never logged in, never relays.
import grp
import os
import poplib
import smtplib
import socket
import stat
import subprocess
import time
import unittest
import uuid

from peers import ports, process, workdir
from peers.dovecot import start_dovecot
from peers.relay import add_user
from peers.relay_delivery import DeliveryRelay, relayscope_bin

POP_CLIENT = "127.0.0.3"
NEVER_LOGGED_IN = "127.0.0.4"
CURL_CLIENT = "127.0.0.5"


class DovecotCase(unittest.TestCase):
    WINDOW = "10m"

    def setUp(self):
        self.dir = workdir.make_workdir(self, "relayscope-dovecot-")
        self.users = os.path.join(self.dir, "users")
        # A capital letter on purpose: passwd stores names in lower case.
        add_user(self.users, "Alice", "correct horse")
        add_user(self.users, "bob", "battery staple")
        # As the README says: the file is readable by a group Dovecot's auth
        # process (user "dovecot") is in; here that group is "dovecot" itself.
        os.chown(self.users, 0, grp.getgrnam("dovecot").gr_gid)
        os.chmod(self.users, 0o640)
        # The relay delivers local mail only here; its smarthost is never used.
        self.relay = DeliveryRelay(self.dir, delivery={
            "smarthost": "127.0.0.1:%d" % ports.free_port("127.0.0.1")})
        with open(self.relay.config, "a") as f:
            f.write('[pop_before_smtp]\nwindow = "%s"\n' % self.WINDOW)
            # One file for both: Dovecot's passwords, the relay's mailboxes.
            f.write('[auth]\nusers_file = "%s"\n' % self.users)
        self.addCleanup(self.relay.stop)
        self.relay.start()
        self.window_dir = os.path.join(self.relay.spool_dir, "windows")
        script = os.path.join(self.dir, "postlogin.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n"
                    "# Dovecot's postlogin: open a POP-before-SMTP window, then go on.\n"
                    '%s relay-window --config %s grant "$IP" --user "${USER%%%%@*}" '
                    ">/dev/null 2>>%s/postlogin.err\n"
                    'exec "$@"\n' % (relayscope_bin(), self.relay.config, self.dir))
        os.chmod(script, 0o755)
        self.dovecot = start_dovecot(self, self.dir, self.users, self.relay.mailbox_root,
                                     postlogin=script)

    def deliver(self, rcpt):
        token = "tok-" + uuid.uuid4().hex
        refused = self.relay.send("carol@remote.test", [rcpt], "hello " + token)
        self.assertEqual(refused, {})
        self.relay.wait_maildir(rcpt, token)
        self.dovecot.chown_maildirs()
        return token

    def pop(self, source):
        """poplib.POP3 from `source`: poplib cannot bind a source address, so
        its _create_socket is given one that does."""
        class BoundPOP3(poplib.POP3):
            def _create_socket(self, timeout):
                return socket.create_connection((self.host, self.port), timeout,
                                                source_address=(source, 0))
        p = BoundPOP3(self.dovecot.addr, self.dovecot.port, timeout=20)
        self.addCleanup(p.close)
        return p

    def windows(self):
        r = process.run([relayscope_bin(), "relay-window", "--config", self.relay.config,
                         "list"], timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def rcpt_to_remote(self, source, sender="alice@example.test"):
        """The code a client at `source` gets at RCPT TO for a remote
        address on the relay's mx listener, without AUTH (or MAIL's code when
        MAIL FROM is refused)."""
        c = smtplib.SMTP(self.relay.addr, self.relay.port, local_hostname="client.example.org",
                         timeout=20, source_address=(source, 0))
        try:
            c.ehlo()
            code, text = c.mail(sender)
            if code != 250:
                c.quit()
                return code
            code, _ = c.rcpt("carol@remote.test")
            c.quit()
            return code
        finally:
            c.close()

    def login_pop(self, source, user="alice@example.test", password="correct horse"):
        p = self.pop(source)
        p.user(user)
        p.pass_(password)
        p.quit()


class DovecotPopTest(DovecotCase):
    def test_the_users_file_is_lowercase_argon2id_dovecot_reads(self):
        with open(self.users) as f:
            names = [l.split(":")[0] for l in f if l.strip() and not l.startswith("#")]
        self.assertEqual(sorted(names), ["alice", "bob"])
        with open(self.users) as f:
            hash_ = [l.split(":", 1)[1].strip() for l in f if l.startswith("alice:")][0]
        r = process.run(["doveadm", "pw", "-t", "{ARGON2ID}" + hash_, "-p", "correct horse"],
                        timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("verified", r.stdout + r.stderr)

    def test_poplib_reads_what_the_relay_delivered_and_the_window_opens(self):
        token = self.deliver("alice@example.test")
        self.assertNotIn(POP_CLIENT, self.windows(), "no window before a login")
        p = self.pop(POP_CLIENT)
        self.assertTrue(p.welcome.startswith(b"+OK"), p.welcome)
        p.user("alice@example.test")
        p.pass_("correct horse")
        count, _ = p.stat()
        self.assertEqual(count, 1)
        lines = p.retr(1)[1]
        self.assertIn(("hello " + token).encode(), b"\n".join(lines))
        p.quit()
        listed = ports.wait_until(
            lambda: (POP_CLIENT + " alice until") in self.windows() and self.windows(), 20,
            "the postlogin window of %s" % POP_CLIENT)
        self.assertIn(POP_CLIENT + " alice until", listed)
        # One file, durable, in the relay's window directory.
        files = os.listdir(self.window_dir)
        self.assertIn("127.0.0.3+alice.window", files)
        self.assertEqual(stat.S_IMODE(os.stat(self.window_dir).st_mode) & 0o007, 0)

    def test_wrong_password_is_refused_and_opens_no_window(self):
        p = self.pop(NEVER_LOGGED_IN)
        p.user("alice@example.test")
        with self.assertRaises(poplib.error_proto) as e:
            p.pass_("wrong")
        self.assertIn(b"Authentication failed", e.exception.args[0])
        self.assertEqual(os.path.exists(self.window_dir) and os.listdir(self.window_dir) or [],
                         [])
        self.assertEqual(self.rcpt_to_remote(NEVER_LOGGED_IN), 554)

    def test_curl_pop3_is_a_second_client(self):
        token = self.deliver("bob@example.test")
        url = "pop3://%s:%d/1" % (self.dovecot.addr, self.dovecot.port)
        r = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "20",
                            "--interface", CURL_CLIENT, "--user",
                            "bob@example.test:battery staple", url],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr + self.dovecot.log())
        self.assertIn("hello " + token, r.stdout)
        listed = ports.wait_until(lambda: (CURL_CLIENT + " bob until") in self.windows(), 20,
                                  "the postlogin window of %s" % CURL_CLIENT)
        self.assertTrue(listed)
        # curl's login opened relaying from its address too, for bob: the
        # window names its user, so bob's addresses only (as AUTH would).
        self.assertEqual(self.rcpt_to_remote(CURL_CLIENT, sender="bob@example.test"), 250)
        self.assertEqual(self.rcpt_to_remote(CURL_CLIENT, sender="alice@example.test"), 553)


class PopBeforeSmtpTest(DovecotCase):
    """A short window, so that its end is seen within the test."""
    WINDOW = "6s"  # room for a sanitizer build's slower steps inside it

    def window_expiry(self, client, user):
        with open(os.path.join(self.window_dir, "%s+%s.window" % (client, user))) as f:
            for line in f:
                if line.startswith("expires "):
                    return int(line.split()[1])
        raise AssertionError("no expiry in the window file")

    def test_the_window_relays_without_auth_on_mx_until_it_ends(self):
        self.deliver("alice@example.test")  # a Maildir for Dovecot to open
        self.assertEqual(self.rcpt_to_remote(POP_CLIENT), 554, "no window before a login")
        self.login_pop(POP_CLIENT)
        ports.wait_until(lambda: (POP_CLIENT + " alice until") in self.windows(), 20,
                         "the postlogin window of %s" % POP_CLIENT)
        expires = self.window_expiry(POP_CLIENT, "alice")
        # The relay picked the new window up without a signal.
        self.assertEqual(self.rcpt_to_remote(POP_CLIENT), 250, self.relay.output())
        token = "tok-" + uuid.uuid4().hex
        c = smtplib.SMTP(self.relay.addr, self.relay.port, local_hostname="client.example.org",
                         timeout=20, source_address=(POP_CLIENT, 0))
        self.addCleanup(c.close)
        self.assertEqual(c.sendmail("alice@example.test", ["carol@remote.test"],
                                    "Subject: %s\r\n\r\nafter POP\r\n" % token), {})
        c.quit()
        self.assertIn("authorised by POP-before-SMTP window of alice", self.relay.log())
        # Another address that never logged in gets nothing from that window.
        self.assertEqual(self.rcpt_to_remote(NEVER_LOGGED_IN), 554)
        # The window ends by its time, without a restart or a signal.
        ports.wait_until(lambda: self.rcpt_to_remote(POP_CLIENT) == 554, 20,
                         "554 5.7.1 again once the window ended", interval=0.25)
        self.assertGreaterEqual(time.time(), expires)
        self.assertEqual(self.rcpt_to_remote(NEVER_LOGGED_IN), 554)


if __name__ == "__main__":
    unittest.main()
