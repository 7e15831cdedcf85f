# A TestCase base for black-box tests of `relayscope survey`: domains under
# .test resolved by the test's own unbound, hosts on 127.x addresses, results
# read back through `relayscope report --hosts --format csv`.
# Limits: one --port per survey run, so hosts probed together share a port.
import re
import unittest

from . import dns, relayscope, workdir

OUTCOMES = ("CONNECT", "EHLO", "MAIL", "TO", "DATA", "QUIT", "OK")
HELO = "probe.relayscope.test"


def domain_for(index, behaviour):
    """A domain name under .test that says what its host does."""
    return "h%d-%s.test" % (index, re.sub(r"[^a-z0-9]+", "-", behaviour.lower()))


class SurveyCase(unittest.TestCase):
    timeout = 5  # the survey's --timeout (seconds per wait)

    def setUp(self):
        self.dir = workdir.make_workdir(self)
        self.runs = 0
        self.db = "%s/results.db" % self.dir

    def start_dns(self, hosts, extra_zone=None):
        """unbound serving one MX per domain: hosts = {domain: ip}."""
        zone = dns.mx_zone(hosts)
        zone.update(extra_zone or {})
        self.unbound = dns.start_unbound(self, self.dir, zone)
        return self.unbound

    def survey(self, targets, port, extra=(), expect_exit=0, **kw):
        """Runs a survey of `targets` (domains or IPs); asserts its exit status."""
        self.runs += 1
        self.db = kw.pop("db", self.db)  # later reports read this database
        path = relayscope.write_targets(self.dir, targets, "targets-%d.txt" % self.runs)
        kw.setdefault("timeout", self.timeout)
        r = relayscope.survey(path, self.unbound.server, self.db, port, extra=extra, **kw)
        self.last = r
        if expect_exit is not None:
            self.assertEqual(r.returncode, expect_exit, "survey exit status\n" + r.describe())
        return r

    def host_rows(self, runs=None):
        """{domain: row} from `report --hosts --format csv`; each domain once."""
        rows = relayscope.hosts_csv(self.db, runs)
        for col in ("domain", "ip", "outcome", "code", "reason"):
            self.assertTrue(rows and col in rows[0], "report --hosts csv lacks column %r: %r" % (
                col, rows[:1]))
        out = {}
        for r in rows:
            self.assertFalse(r["domain"] in out, "domain reported twice: %r and %r" % (out.get(r["domain"]), r))
            out[r["domain"]] = r
        return out

    def assertOutcome(self, row, outcome, code=None, reason=None, msg=""):
        """outcome exact; code exact ("" = none) when given; reason: any of these words."""
        where = "%s %s: %r %s" % (row.get("domain"), row.get("ip"), row, msg)
        self.assertEqual(row["outcome"], outcome, where)
        if code is not None:
            self.assertEqual(row["code"].strip(), str(code), where)
        if reason is not None:
            words = (reason,) if isinstance(reason, str) else reason
            self.assertTrue(any(w in row["reason"].lower() for w in words),
                            "reason should mention one of %r: %s" % (words, where))

    def assertWellMannered(self, fake, helo=HELO):
        """Per fake host: one connection at most, nothing sent before the greeting,
        and our own EHLO name."""
        for addr, conns in fake.by_addr().items():
            self.assertEqual(len(conns), 1, "%s was connected to %d times" % (addr, len(conns)))
            c = conns[0]
            self.assertFalse(c["early_talk"], "talked before the greeting: %r" % c)
            if c["helo"] is not None and helo is not None:
                self.assertEqual(c["helo"], helo, c)
