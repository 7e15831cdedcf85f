# relayscope survey over IPv6, in a network namespace that this test makes
# itself (`unshare -n`, or `unshare -rn` when not root): its loopback gets
# 2001:db8::25 (documentation space), aiosmtpd listens there and on
# 127.0.0.25, unbound answers A and AAAA on 127.0.0.1, and the survey runs
# with --family both. Nothing can leave the namespace: it has no interface
# but lo and no route but lo's. An AAAA record pointing at 2001:db8:1::25 (no
# route inside) shows the "no route" drop-out: never an outcome.
import os
import shutil
import sqlite3
import subprocess
import sys
import unittest

from peers import aiosmtpd, relayscope, workdir
from peers import dns as dnspeer

PYTHON = "/usr/bin/python3"
INSIDE = "RELAYSCOPE_IN_TEST_NETNS"
V6 = "2001:db8::25"
V6_NO_ROUTE = "2001:db8:1::25"
V4 = "127.0.0.25"


def unshare_prefix():
    """The unshare command line that gives a new network namespace here, or None."""
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    for argv in ([unshare, "-n"], [unshare, "-rn"]):
        try:
            r = subprocess.run(argv + ["true"], capture_output=True, timeout=30)
        except OSError:
            return None
        if r.returncode == 0:
            return argv
    return None


class Ipv6InANamespace(unittest.TestCase):
    def test_survey_inside_a_namespace_of_its_own(self):
        prefix = unshare_prefix()
        if prefix is None:
            self.skipTest("no network namespace can be made here (unshare -n and -rn fail)")
        env = dict(os.environ, **{INSIDE: "1"})
        here = os.path.dirname(os.path.abspath(__file__))
        r = subprocess.run(prefix + [PYTHON, "-m", "unittest", "-v", "test_survey_ipv6.Inside"],
                           cwd=here, env=env, capture_output=True, text=True, timeout=540)
        sys.stderr.write(r.stdout + r.stderr)
        self.assertEqual(r.returncode, 0, "the tests inside the namespace failed (output above)")
        self.assertRegex(r.stderr, r"Ran [1-9]\d* tests?")
        self.assertNotIn("skipped", r.stderr)


class Inside(unittest.TestCase):
    """Runs only in the namespace that Ipv6InANamespace makes."""

    @classmethod
    def setUpClass(cls):
        if os.environ.get(INSIDE) != "1":
            raise unittest.SkipTest("runs inside the namespace that the test above makes")
        ip = shutil.which("ip") or "/usr/sbin/ip"

        def sh(*args):
            subprocess.run([ip] + list(args), check=True, timeout=30)

        # A namespace of our own: only lo, and lo down until we bring it up.
        links = subprocess.run([ip, "-o", "link"], capture_output=True, text=True, check=True)
        assert len(links.stdout.splitlines()) == 1 and ": lo:" in links.stdout, links.stdout
        sh("link", "set", "lo", "up")
        sh("-6", "addr", "add", V6 + "/128", "dev", "lo", "nodad")
        routes = subprocess.run([ip, "-6", "route", "get", V6_NO_ROUTE], capture_output=True,
                                text=True)
        assert routes.returncode != 0, "2001:db8:1::25 should have no route: " + routes.stdout

    def setUp(self):
        self.dir = workdir.make_workdir(self)
        self.db = os.path.join(self.dir, "results.db")
        port = dnspeer.free_dns_port(V4)  # the namespace is empty: free on V6 too
        self.v4 = aiosmtpd.start_aiosmtpd(self, self.dir, addr=V4, port=port)
        self.v6 = aiosmtpd.start_aiosmtpd(self, self.dir, addr=V6, port=port)
        self.port = port
        zone = {
            "dual.test": {"mx": [(10, "mx.dual.test")]},
            "mx.dual.test": {"a": [V4], "aaaa": [V6]},
            "unrouted.test": {"mx": [(10, "mx.unrouted.test")]},
            "mx.unrouted.test": {"aaaa": [V6_NO_ROUTE]},
        }
        self.unbound = dnspeer.start_unbound(self, self.dir, zone)

    def survey(self, family, extra=()):
        path = relayscope.write_targets(self.dir, ["dual.test", "unrouted.test"],
                                        "targets-%s.txt" % family)
        args = ["--scope", "2001:db8::/32"] + (["--family", family] if family else [])
        r = relayscope.survey(path, self.unbound.server, self.db, self.port,
                              extra=args + list(extra))
        self.assertEqual(r.returncode, 0, r.describe())
        return r

    def rows(self):
        return relayscope.by_ip(relayscope.hosts_csv(self.db))

    def test_both_families_each_address_is_a_row_and_the_v6_host_relays(self):
        r = self.survey("both", ["--variants", "all", "--no-data"])
        rows = self.rows()
        self.assertEqual(set(rows), {V4, V6}, rows)
        for ip in (V4, V6):
            self.assertEqual(len(rows[ip]), 1, rows[ip])
            self.assertEqual(rows[ip][0]["domain"], "dual.test")
            self.assertEqual(rows[ip][0]["outcome"], "OK", rows[ip])
        # The unroutable address dropped out before the sample, with its reason.
        self.assertIn("1 IPv6 addresses dropped before the sample: no route", r.stdout)
        self.assertRegex(r.stdout, r"1 excluded, 2 sampled")
        # Variants spell the host's address literal with its IPv6: tag (RFC 5321 4.1.3).
        with sqlite3.connect(self.db) as c:
            lines = [t for (t,) in c.execute(
                "SELECT l.text FROM transcript_lines l JOIN probes p ON p.id = l.probe_id "
                "WHERE p.ip = ?", (V6,))]
        self.assertTrue(any("@[IPv6:%s]>" % V6 in l for l in lines),
                        "no IPv6: literal in the v6 host's transcript:\n" + "\n".join(lines[:40]))
        self.assertFalse(any("[IPv6:%s]" % V4 in l for l in lines))

    def test_the_v6_probe_travels_over_ipv6_and_delivers(self):
        self.survey("6")
        rows = self.rows()
        self.assertEqual(set(rows), {V6}, rows)
        token = rows[V6][0]["token"]
        msg = self.v6.wait_for(token)
        # aiosmtpd's Mailbox handler notes the client: it came over IPv6.
        self.assertRegex(msg, r"(?im)^x-peer: \('[0-9a-f]*:[0-9a-f:]+'")
        self.assertEqual(self.v4.messages(), [])

    def test_family_4_is_the_default_and_probes_no_ipv6(self):
        r = self.survey(None)
        rows = self.rows()
        self.assertEqual(set(rows), {V4}, rows)
        self.assertEqual(rows[V4][0]["outcome"], "OK")
        self.assertNotIn("no route", r.stdout)
        self.assertEqual(self.v6.messages(), [])

    def test_an_ipv6_target_address_is_probed_with_its_literal(self):
        path = relayscope.write_targets(self.dir, ["[%s]" % V6, V6_NO_ROUTE], "targets-ip.txt")
        r = relayscope.survey(path, self.unbound.server, self.db, self.port,
                              extra=["--scope", "2001:db8::/32", "--family", "6"])
        self.assertEqual(r.returncode, 0, r.describe())
        rows = self.rows()
        self.assertEqual(set(rows), {V6}, rows)
        self.assertEqual(rows[V6][0]["outcome"], "OK")
        self.assertIn("1 IPv6 addresses dropped before the sample: no route", r.stdout)


if __name__ == "__main__":
    unittest.main()
