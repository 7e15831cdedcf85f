# relayscope survey against fake hosts with good and bad manners (one fake
# process serves them all): each gets its own right outcome, no crash, no
# hang, and the prober keeps its manners (issue 2, "Tests against real peers").
import time
import unittest

from peers import fake_smtp, ports
from peers.survey_case import HELO, SurveyCase, domain_for

GARBAGE = ("garbage", "malformed", "invalid", "unparsable", "syntax", "bad reply", "not a reply")
TOO_LONG = ("long", "limit", "too large", "overflow")

# (behaviour, params, outcome, code ("" = none came; None = any), reason words or None)
CASES = [
    ("ok", {}, "OK", None, None),
    ("ehlo_unknown", {}, "OK", None, None),
    ("split", {}, "OK", None, None),
    ("slow_greeting", {"seconds": 2.0}, "OK", None, None),
    ("greet_pause", {"pause": 1.5}, "OK", None, None),
    ("greeting_rejected", {}, "CONNECT", 554, ("greeting",)),
    ("greeting_421", {}, "CONNECT", 421, None),
    ("mail_rejected", {}, "MAIL", 553, None),
    ("rcpt_450", {}, "TO", 450, None),
    ("relay_denied", {}, "TO", 554, None),
    ("data_rejected", {}, "DATA", 554, None),
    ("reject_after_dot", {}, "DATA", 554, None),
    ("greylist_after_dot", {}, "DATA", 451, None),
    ("garbage", {"at": "GREETING"}, "CONNECT", "", GARBAGE),
    ("garbage", {"at": "EHLO"}, "EHLO", "", GARBAGE),
    ("garbage", {"at": "RCPT"}, "TO", "", GARBAGE),
    ("megabyte", {"at": "EHLO", "then": "close"}, "EHLO", "", TOO_LONG),
    ("megabyte", {"at": "EHLO", "then": "hang"}, "EHLO", "", TOO_LONG),
    ("reset", {"at": "MAIL"}, "MAIL", "", ("reset",)),
    ("close", {"at": "RCPT"}, "TO", "", None),
]


class BehavioursTest(SurveyCase):
    timeout = 5

    def test_each_behaviour_gets_its_outcome(self):
        addrs = ports.distinct_loopbacks(len(CASES) + 1)
        refused_addr = addrs.pop()  # nothing listens there
        hosts = [(a, b, p) for a, (b, p, *_r) in zip(addrs, CASES)]
        fake = fake_smtp.start_fake_smtp(self, self.dir, hosts, idle_timeout=30, hang_timeout=30)
        domains = {domain_for(i, b): a for i, (a, b, _p) in enumerate(hosts)}
        refused = domain_for(len(hosts), "refused")
        domains[refused] = refused_addr
        self.start_dns(domains)

        t0 = time.monotonic()
        self.survey(sorted(domains), fake.port, extra=["--concurrency", "50"])
        took = time.monotonic() - t0
        rows = self.host_rows()
        self.assertEqual(set(rows), set(domains), "one row per domain")

        self.assertOutcome(rows[refused], "CONNECT", "", ("refus",))
        for i, (addr, behaviour, params) in enumerate(hosts):
            _b, _p, outcome, code, reason = CASES[i]
            with self.subTest(behaviour=behaviour, params=params):
                row = rows[domain_for(i, behaviour)]
                self.assertEqual(row["ip"], addr)
                self.assertOutcome(row, outcome, code, reason)
        # Every wait is bounded: even the hosts that hang cost at most a few timeouts.
        self.assertLess(took, 4 * self.timeout + 15, "survey took %.1f s" % took)

        log = fake.by_addr()
        self.assertWellMannered(fake)
        ehlo = log[next(a for a, b, _p in hosts if b == "ehlo_unknown")][0]
        verbs = [c.split(" ", 1)[0].upper() for c in ehlo["commands"]]
        self.assertEqual(verbs[:2], ["EHLO", "HELO"], ehlo)
        self.assertEqual(ehlo["commands"][1].split(" ", 1)[1], HELO)
        # The OK hosts got the test message carrying the token of their row.
        for i, (addr, behaviour, params) in enumerate(hosts):
            if CASES[i][2] != "OK":
                continue
            with self.subTest(token_at=behaviour):
                token = rows[domain_for(i, behaviour)].get("token", "")
                self.assertTrue(token, "report --hosts csv gives no token for an OK host")
                conn = log[addr][0]
                self.assertIn(token, conn["data"] or "", "token not in the message body")
                mail = [c for c in conn["commands"] if c.upper().startswith("MAIL FROM:")]
                self.assertTrue(mail and token in mail[0], "token not in the envelope sender: %r" % mail)
                headers = (conn["data"] or "").split("\r\n\r\n", 1)[0].lower()
                self.assertRegex(headers, r"(^|\n)message-id:[^\n]*%s" % token.lower())

    def test_silent_host_is_connect_timeout_within_the_timeout(self):
        timeout = 3
        addr = ports.random_loopback()
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(addr, "no_greeting")], hang_timeout=60)
        self.start_dns({"silent.test": addr})
        t0 = time.monotonic()
        self.survey(["silent.test"], fake.port, timeout=timeout)
        took = time.monotonic() - t0
        self.assertOutcome(self.host_rows()["silent.test"], "CONNECT", "", ("timeout", "timed out"))
        # It waited the whole timeout for the greeting, and not much longer.
        self.assertGreaterEqual(took, timeout - 0.2)
        self.assertLess(took, timeout + 7, "survey took %.1f s with --timeout %d" % (took, timeout))
        conns = fake.connections()
        self.assertEqual(len(conns), 1)
        self.assertEqual(conns[0]["commands"], [], "sent commands without a greeting")
        self.assertFalse(conns[0]["early_talk"])


if __name__ == "__main__":
    unittest.main()
