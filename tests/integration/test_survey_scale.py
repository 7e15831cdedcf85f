# 200 hosts on distinct 127.x addresses with mixed behaviours, probed with
# --concurrency 50: every outcome right, no host probed twice (even when
# several domains share it), and never more than 50 connections at once.
import random
import time
import unittest

from peers import fake_smtp, ports
from peers.survey_case import SurveyCase, domain_for

HOSTS = 200
CONCURRENCY = 50
SHARED_DOMAINS = 20  # extra domains whose MX is one of the hosts above

# behaviour, params, outcome, code; weights make most hosts quick ones.
MIX = [
    ("ok", {}, "OK", None, 40),
    ("relay_denied", {}, "TO", "554", 60),
    ("rcpt_450", {}, "TO", "450", 15),
    ("mail_rejected", {}, "MAIL", "553", 10),
    ("data_rejected", {}, "DATA", "554", 10),
    ("greylist_after_dot", {}, "DATA", "451", 10),
    ("reject_after_dot", {}, "DATA", "554", 10),
    ("ehlo_unknown", {}, "OK", None, 10),
    ("greeting_rejected", {}, "CONNECT", "554", 10),
    ("split", {"pause": 0.1}, "OK", None, 10),
    ("reset", {"at": "MAIL"}, "MAIL", "", 5),
    ("slow_greeting", {"seconds": 1.0}, "OK", None, 5),
    ("refused", {}, "CONNECT", "", 5),  # no listener at all
]


class ScaleTest(SurveyCase):
    timeout = 10

    def test_200_hosts_concurrency_50(self):
        rng = random.Random(20260101)
        plan = [m for m in MIX for _ in range(m[4])]
        self.assertEqual(len(plan), HOSTS)
        rng.shuffle(plan)
        addrs = ports.distinct_loopbacks(HOSTS)
        # Each greeting comes after 0.3 s, so probes overlap and --concurrency shows.
        listening = [(a, m[0], dict(m[1], delays={"GREETING": 0.3}))
                     for a, m in zip(addrs, plan) if m[0] != "refused"]
        fake = fake_smtp.start_fake_smtp(self, self.dir, listening)
        domains = {domain_for(i, m[0]): a for i, (a, m) in enumerate(zip(addrs, plan))}
        expected = {d: plan[i] for i, d in enumerate(domains)}
        shared = {}
        for j in range(SHARED_DOMAINS):
            shared["alias%d.test" % j] = rng.choice(addrs)
        self.start_dns({**domains, **shared})

        t0 = time.monotonic()
        self.survey(sorted(domains) + sorted(shared), fake.port, concurrency=CONCURRENCY)
        took = time.monotonic() - t0

        rows = self.host_rows()
        by_ip = {}
        for r in rows.values():
            by_ip.setdefault(r["ip"], []).append(r)
        self.assertEqual(sorted(by_ip), sorted(addrs), "one row per host address")
        doubles = {ip: rs for ip, rs in by_ip.items() if len(rs) > 1}
        self.assertEqual(doubles, {}, "hosts reported (probed) more than once")

        wrong = []
        for d, (behaviour, _p, outcome, code, _w) in expected.items():
            r = by_ip[domains[d]][0]
            if r["outcome"] != outcome or (code is not None and r["code"].strip() != code):
                wrong.append("%s (%s) %s: want %s %s, got %s %r %r" % (
                    d, behaviour, r["ip"], outcome, code, r["outcome"], r["code"], r["reason"]))
        self.assertEqual(wrong, [], "%d of %d outcomes wrong" % (len(wrong), HOSTS))

        conns = fake.connections(wait=30)
        per_addr = {}
        for c in conns:
            per_addr.setdefault(c["addr"], []).append(c)
        twice = {a: len(cs) for a, cs in per_addr.items() if len(cs) > 1}
        self.assertEqual(twice, {}, "addresses connected to more than once")
        self.assertEqual(len(per_addr), len(listening), "every listening host was probed")
        self.assertEqual([c for c in conns if c["early_talk"]], [], "talked before a greeting")

        # At no moment more than --concurrency connections were open (allowing
        # the fake's event loop 20 ms to notice a client's close).
        edges = sorted([(c["opened"], 1) for c in conns] + [(c["ended"] - 0.02, -1) for c in conns])
        open_now = peak = 0
        for _t, step in edges:
            open_now += step
            peak = max(peak, open_now)
        self.assertLessEqual(peak, CONCURRENCY, "connections open at once")
        self.assertGreaterEqual(peak, 10, "probes hardly overlapped: is --concurrency used?")
        print("scale: %d hosts in %.1f s, peak %d connections at once" % (HOSTS, took, peak))
        self.assertLess(took, 120)


if __name__ == "__main__":
    unittest.main()
