# The relay policy from outside (issue 4): nmap's smtp-open-relay script and
# every relay-trick spelling of a remote address, sent by a stranger
# (127.0.0.1), must meet 554 5.7.1 at RCPT TO; spellings that resolve to one
# of our mailboxes are accepted and delivered there. Also `check-config` on
# the shipped example and on broken files.
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import uuid

from peers import process, relay
from peers.relay import LOCAL_CLIENT, STRANGER, read_reply

REMOTE = "remote.example.org"


def relayscope_bin():
    return os.environ["RELAYSCOPE_BIN"]


class PolicyCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="relayscope-relay-policy-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        os.chmod(cls.dir, 0o755)
        # Port 25 on a random 127.x address, so that nmap's script (which
        # runs on SMTP ports) takes it without a version scan; root only.
        cls.port25 = os.geteuid() == 0
        cls.relay = relay.Relay(cls.dir, tls=False,
                                local_domains=("example.test", "other.example"),
                                users={"bob": "bob password", "carol": "carol password"},
                                port=25 if cls.port25 else None,
                                extra='[timeouts]\ngreet_pause = "50ms"\n')
        cls.addClassCleanup(cls.relay.stop)
        cls.relay.start()

    def rcpt(self, rcpt, source=STRANGER):
        """(code, first line) of RCPT TO:<rcpt>, in a session of its own."""
        s = self.relay.connect(source)
        self.addCleanup(s.close)
        f = s.makefile("rb")
        self.addCleanup(f.close)
        self.assertEqual(read_reply(f)[0], 220)
        for line in ("EHLO client.example.org", "MAIL FROM:<someone@%s>" % REMOTE):
            s.sendall(line.encode() + b"\r\n")
            self.assertEqual(read_reply(f)[0], 250, line)
        s.sendall(("RCPT TO:%s\r\n" % rcpt).encode())
        code, lines = read_reply(f)
        return code, lines[0], s, f


class NmapTest(PolicyCase):
    def test_nmap_smtp_open_relay_says_not_an_open_relay(self):
        argv = ["nmap", "-n", "-Pn", "-p", str(self.relay.port), "--script", "smtp-open-relay",
                "--script-args",
                "smtp-open-relay.domain=%s,smtp-open-relay.ip=%s" % (REMOTE, self.relay.addr)]
        if not self.port25:
            argv += ["-sV", "--version-light"]
        r = process.run(argv + [self.relay.addr], timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("smtp-open-relay", r.stdout, r.stdout)
        self.assertIn("Server doesn't seem to be an open relay, all tests failed", r.stdout)
        self.assertNotIn("Server is an open relay", r.stdout)
        # Its relay attempts did reach RCPT TO and were refused there.
        log = self.relay.log()
        self.assertGreaterEqual(log.count("client=127.0.0.1 rcpt="), 10, log)
        self.assertIn("Relay access denied", log)


class SpellingTest(PolicyCase):
    def our_ip(self):
        return self.relay.addr

    def test_every_trick_spelling_of_a_remote_address_is_refused(self):
        ip = self.our_ip()
        spellings = [
            "<victim@%s>" % REMOTE,
            "<VICTIM@REMOTE.EXAMPLE.ORG>",
            "<victim@%s.>" % REMOTE,
            "<victim%%%s@example.test>" % REMOTE,
            "<victim%%%s@[%s]>" % (REMOTE, ip),
            "<victim%%%s%%other.example@example.test>" % REMOTE,
            "<%s!victim@example.test>" % REMOTE,
            "<%s!victim@[%s]>" % (REMOTE, ip),
            "<\"victim@%s\"@example.test>" % REMOTE,
            "<\"victim@%s\"@[%s]>" % (REMOTE, ip),
            "<\"victim%%%s\"@example.test>" % REMOTE,
            "<@example.test:victim@%s>" % REMOTE,
            "<@[%s]:victim@%s>" % (ip, REMOTE),
            "<@example.test,@other.example:victim@%s>" % REMOTE,
            "<victim@[192.0.2.1]>",
            "<victim@[%s]>" % ip,  # literals are never local (the safe rule)
            "<victim@[IPv6:2001:db8::1]>",
            "<victim@example.test.%s>" % REMOTE,
            "<victim@mx.example.test>",
        ]
        for rcpt in spellings:
            with self.subTest(rcpt=rcpt):
                code, line, _, _ = self.rcpt(rcpt)
                self.assertEqual(code, 554, line)
                self.assertTrue(line.startswith("554 5.7.1 "), line)

    def test_local_spellings_are_accepted_for_a_stranger(self):
        for rcpt in ("<bob@example.test>", "<BOB@Example.Test>", "<bob@example.test.>",
                     "<bob%other.example@example.test>", "<other.example!bob@example.test>",
                     "<\"bob@other.example\"@example.test>", "<@example.test:bob@other.example>",
                     "<Postmaster>"):
            with self.subTest(rcpt=rcpt):
                code, line, _, _ = self.rcpt(rcpt)
                self.assertEqual(code, 250, line)

    def test_a_local_client_may_relay_and_the_route_decides(self):
        code, line, _, _ = self.rcpt("<victim%%%s@example.test>" % REMOTE, source=LOCAL_CLIENT)
        self.assertEqual(code, 250, line)

    def test_percent_hack_to_a_local_domain_lands_in_the_resolved_maildir(self):
        t = "tok-" + uuid.uuid4().hex
        code, line, s, f = self.rcpt("<carol%other.example@example.test>")
        self.assertEqual(code, 250, line)
        s.sendall(b"DATA\r\n")
        self.assertEqual(read_reply(f)[0], 354)
        s.sendall(("Subject: %s\r\n\r\nhello\r\n.\r\n" % t).encode())
        self.assertEqual(read_reply(f)[0], 250)
        s.sendall(b"QUIT\r\n")
        msg = self.relay.wait_maildir("carol@other.example", t)
        self.assertIn("Delivered-To: carol@other.example", msg)
        self.assertEqual(self.relay.maildir_messages("carol@example.test"), [])


class CheckConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="relayscope-check-config-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def check(self, path):
        return process.run([relayscope_bin(), "check-config", path], timeout=60)

    def test_the_shipped_example_is_valid(self):
        example = os.path.join(os.environ["RELAYSCOPE_SOURCE_DIR"], "examples", "relay.toml")
        r = self.check(example)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "ok")

    def broken(self, replace, by):
        example = os.path.join(os.environ["RELAYSCOPE_SOURCE_DIR"], "examples", "relay.toml")
        with open(example) as f:
            text = f.read()
        self.assertIn(replace, text)
        text = text.replace(replace, by, 1)
        line = text[:text.index(by)].count("\n") + 1
        path = os.path.join(self.dir, "relay.toml")
        with open(path, "w") as f:
            f.write(text)
        r = self.check(path)
        return r, line, path

    def assert_names_line(self, r, path, line, what):
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        first = r.stderr.strip().splitlines()
        self.assertEqual(len(first), 1, r.stderr)
        self.assertTrue(first[0].startswith("%s:%d: " % (path, line)), r.stderr)
        self.assertRegex(first[0], what)

    def test_bad_cidr(self):
        r, line, path = self.broken('"127.0.0.2/32"', '"127.0.0.2/33"')
        self.assert_names_line(r, path, line, re.escape("127.0.0.2/33"))

    def test_unknown_key(self):
        r, line, path = self.broken("max_recipients = 100", "max_recipeints = 100")
        self.assert_names_line(r, path, line, "unknown key limits.max_recipeints")

    def test_syntax_error(self):
        r, line, path = self.broken('hostname = "mx.example.test"', 'hostname = "mx.example.test')
        self.assert_names_line(r, path, line, ".")

    def test_missing_file(self):
        r = self.check(os.path.join(self.dir, "nothing.toml"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read", r.stderr)


if __name__ == "__main__":
    unittest.main()
