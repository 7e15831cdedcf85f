# relayscope survey options seen from the probed hosts: --no-data sends no
# message, the default EHLO name is ours (never empty, never the target's),
# and a bare IP in a --domains targets file is probed directly.
import unittest

from peers import fake_smtp, ports
from peers.survey_case import SurveyCase


class OptionsTest(SurveyCase):
    timeout = 5

    def test_no_data_stops_after_rcpt(self):
        ok, grey = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(ok, "ok"), (grey, "rcpt_450")])
        self.start_dns({"open.test": ok, "grey.test": grey})
        self.survey(["open.test", "grey.test"], fake.port, extra=["--no-data"])
        rows = self.host_rows()
        self.assertOutcome(rows["grey.test"], "TO", 450)
        self.assertNotIn(rows["open.test"]["outcome"], ("CONNECT", "EHLO", "MAIL", "TO", "DATA"),
                         "the open host accepted RCPT TO: %r" % rows["open.test"])
        log = fake.by_addr()
        self.assertWellMannered(fake)
        for addr in (ok, grey):
            conn = log[addr][0]
            verbs = [c.split(" ", 1)[0].split(":", 1)[0].upper() for c in conn["commands"]]
            with self.subTest(addr=addr, verbs=verbs):
                self.assertNotIn("DATA", verbs)
                self.assertIsNone(conn["data"])
                self.assertIn("RCPT", verbs)
                after = verbs[verbs.index("RCPT") + 1 :]
                self.assertTrue(set(after) <= {"RSET", "QUIT"}, after)
                if addr == ok:
                    self.assertEqual(after, ["RSET", "QUIT"])

    def test_default_helo_is_ours(self):
        addr = ports.random_loopback()
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(addr, "ok")])
        self.start_dns({"plain.test": addr})
        self.survey(["plain.test"], fake.port, helo=None)
        self.assertOutcome(self.host_rows()["plain.test"], "OK")
        conn = fake.connections()[0]
        helo = (conn["helo"] or "").strip()
        self.assertTrue(helo, "empty EHLO name: %r" % conn["commands"][:1])
        for theirs in ("plain.test", "mx.plain.test", "fake.test", addr, "[%s]" % addr):
            self.assertNotEqual(helo.lower(), theirs, "EHLO names the target")

    def test_bare_ip_is_probed_without_dns(self):
        ip_host, named = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(ip_host, "relay_denied"), (named, "ok")])
        # The zone doesn't know the bare IP: it must not need to.
        self.start_dns({"named.test": named})
        self.survey([ip_host, "named.test"], fake.port)
        rows = {r["ip"]: r for r in self.host_rows().values()}
        self.assertEqual(set(rows), {ip_host, named})
        self.assertOutcome(rows[ip_host], "TO", 554)
        self.assertOutcome(rows[named], "OK")
        self.assertWellMannered(fake)

    def test_out_of_scope_hosts_are_never_touched(self):
        inside, outside = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(inside, "ok"), (outside, "ok")])
        self.start_dns({"inside.test": inside, "outside.test": outside})
        self.survey(["inside.test", "outside.test"], fake.port, scope="%s/32" % inside,
                    extra=["--scope", "%s/32" % self.unbound.addr])
        log = fake.by_addr()
        self.assertEqual(list(log), [inside], "connected outside --scope")

    def test_excluded_hosts_are_never_touched(self):
        kept, excluded = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(kept, "ok"), (excluded, "ok")])
        self.start_dns({"kept.test": kept, "excluded.test": excluded})
        exclude = "%s/exclude.txt" % self.dir
        with open(exclude, "w") as f:
            f.write("# never probe this one\n%s/32\n" % excluded)
        self.survey(["kept.test", "excluded.test"], fake.port, extra=["--exclude", exclude])
        log = fake.by_addr()
        self.assertEqual(list(log), [kept], "connected to an --exclude'd address")

    def test_mx_fallback_tries_the_next_mx_on_connect_failure(self):
        dead, alive = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(alive, "ok")])
        self.start_dns({}, extra_zone={
            "twomx.test": {"mx": [(10, "mx1.twomx.test"), (20, "mx2.twomx.test")]},
            "mx1.twomx.test": [dead],  # nothing listens there: refused
            "mx2.twomx.test": [alive],
        })
        self.survey(["twomx.test"], fake.port, db="%s/without.db" % self.dir)
        self.assertOutcome(self.host_rows()["twomx.test"], "CONNECT", "", ("refus",))
        self.assertEqual(fake.connections(), [], "tried the higher MX without --mx-fallback")
        self.survey(["twomx.test"], fake.port, db="%s/with.db" % self.dir, extra=["--mx-fallback"])
        self.assertOutcome(self.host_rows()["twomx.test"], "OK")
        self.assertEqual(len(fake.connections()), 1)

    def test_sample_is_seeded_and_reproducible(self):
        addrs = ports.distinct_loopbacks(20)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(a, "relay_denied") for a in addrs])
        domains = {"s%d.test" % i: a for i, a in enumerate(addrs)}
        self.start_dns(domains)
        picked = []
        for n in range(2):
            self.survey(sorted(domains), fake.port, db="%s/sample%d.db" % (self.dir, n),
                        extra=["--sample", "5", "--seed", "7"])
            picked.append(sorted(self.host_rows()))
        self.assertEqual(len(picked[0]), 5)
        self.assertEqual(picked[0], picked[1], "same seed, different sample")
        self.assertEqual(sorted(c["addr"] for c in fake.connections()),
                         sorted(domains[d] for d in picked[0] + picked[1]))

    def test_rate_limits_new_connections(self):
        n, rate = 10, 5
        addrs = ports.distinct_loopbacks(n)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(a, "relay_denied") for a in addrs])
        self.start_dns({"r%d.test" % i: a for i, a in enumerate(addrs)})
        self.survey(["r%d.test" % i for i in range(n)], fake.port, extra=["--rate", str(rate)])
        opened = sorted(c["opened"] for c in fake.connections())
        self.assertEqual(len(opened), n)
        # Even if the first second's worth may go at once, the rest must wait.
        span = opened[-1] - opened[0]
        self.assertGreaterEqual(span, (n - rate) / rate - 0.1, "connections opened over %.2f s" % span)


if __name__ == "__main__":
    unittest.main()
