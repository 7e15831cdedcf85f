# Issue 14's rules against a running relay, with Python's smtplib on
# loopback: an unknown local recipient gets 550 5.1.1 and no Maildir; an
# alias reaches both its users; postmaster@ is always accepted; alice may
# send as alice@ but not as ceo@other.test (553 5.7.1 at MAIL), and a forged
# From: header is refused after DATA (550 5.7.1) with nothing spooled; the
# N+1th message of a user in the hour gets 450 4.7.1 and a log line.
import os
import shutil
import smtplib
import tempfile
import unittest
import uuid

from peers import relay
from peers.relay import STRANGER

PASSWORDS = {"alice": "alice's password", "bob": "bob's password"}
LIMIT = 2  # messages_per_hour_per_user

EXTRA = """[aliases]
sales = ["alice", "bob"]
[rate_limits]
messages_per_hour_per_user = %d
""" % LIMIT


def token():
    return "tok-" + uuid.uuid4().hex


def message(from_header, t):
    return "From: %s\r\nSubject: %s\r\n\r\nhello %s\r\n" % (from_header, t, t)


class RelayRulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="relayscope-relay-rules-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        os.chmod(cls.dir, 0o755)
        cls.relay = relay.Relay(cls.dir, users=PASSWORDS,
                                extra='[timeouts]\ngreet_pause = "0s"\n' + EXTRA)
        cls.addClassCleanup(cls.relay.stop)
        cls.relay.start()

    def smtp(self, user=None):
        c = smtplib.SMTP(self.relay.addr, self.relay.port, local_hostname="client.example.org",
                         timeout=20, source_address=(STRANGER, 0))
        self.addCleanup(c.close)
        if user:
            c.starttls(context=self.relay.client_context())
            c.login(user, PASSWORDS[user])
        return c

    def maildir(self, address):
        user, domain = address.split("@")
        return os.path.join(self.relay.mailbox_root, domain, user)

    def test_unknown_local_recipient_is_550_511_and_gets_no_maildir(self):
        c = self.smtp()
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            c.sendmail("friend@remote.example.org", ["nobody@example.test"],
                       message("friend@remote.example.org", token()))
        code, text = cm.exception.recipients["nobody@example.test"]
        self.assertEqual(code, 550)
        self.assertTrue(text.startswith(b"5.1.1 "), text)
        self.assertFalse(os.path.exists(self.maildir("nobody@example.test")))

    def test_alias_reaches_each_of_its_users(self):
        t = token()
        c = self.smtp()
        self.assertEqual(c.sendmail("friend@remote.example.org", ["sales@example.test"],
                                    message("friend@remote.example.org", t)), {})
        c.quit()
        for user in ("alice@example.test", "bob@example.test"):
            msg = self.relay.wait_maildir(user, t)
            self.assertIn("Delivered-To: %s" % user, msg)
        self.assertFalse(os.path.exists(self.maildir("sales@example.test")))

    def test_postmaster_is_always_accepted(self):
        t = token()
        c = self.smtp()
        self.assertEqual(c.sendmail("friend@remote.example.org", ["postmaster@example.test"],
                                    message("friend@remote.example.org", t)), {})
        c.quit()
        self.relay.wait_maildir("postmaster@example.test", t)

    def test_alice_sends_as_herself_not_as_someone_else(self):
        good, forged = token(), token()
        c = self.smtp("alice")
        self.assertEqual(c.sendmail("alice@example.test", ["bob@example.test"],
                                    message("Alice <alice@example.test>", good)), {})
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            c.sendmail("ceo@other.test", ["bob@example.test"], message("ceo@other.test", token()))
        self.assertEqual(cm.exception.smtp_code, 553)
        self.assertTrue(cm.exception.smtp_error.startswith(b"5.7.1 "), cm.exception.smtp_error)
        c.rset()
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            c.sendmail("alice@example.test", ["bob@example.test"],
                       message("The CEO <ceo@other.test>", forged))
        self.assertEqual(cm.exception.smtp_code, 550)
        self.assertTrue(cm.exception.smtp_error.startswith(b"5.7.1 "), cm.exception.smtp_error)
        c.quit()
        self.relay.wait_maildir("bob@example.test", good)
        # The refused message is nowhere: not spooled, not delivered.
        self.assertFalse(any(forged in m for m in self.relay.spooled()))
        tmp = os.path.join(self.relay.spool_dir, "tmp")
        self.assertEqual(os.listdir(tmp) if os.path.isdir(tmp) else [], [])
        self.assertFalse(any(forged in m for m in self.relay.maildir_messages("bob@example.test")))

    def test_the_message_past_the_hourly_limit_gets_450_471(self):
        # bob sends only here: the hour's budget is his alone.
        c = self.smtp("bob")
        for _ in range(LIMIT):
            self.assertEqual(c.sendmail("bob@example.test", ["alice@example.test"],
                                        message("bob@example.test", token())), {})
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            c.sendmail("bob@example.test", ["alice@example.test"],
                       message("bob@example.test", token()))
        self.assertEqual(cm.exception.smtp_code, 450)
        text = cm.exception.smtp_error.decode()
        self.assertRegex(text, r"^4\.7\.1 Too many messages of user bob in the last hour; "
                               r"try again in \d+ seconds$")
        c.quit()
        self.assertIn("user=bob refused at MAIL: rate limit", self.relay.log())

if __name__ == "__main__":
    unittest.main()
