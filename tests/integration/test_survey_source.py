# relayscope survey --source ADDR, repeated: probes take turns over our
# addresses, host by host. Four aiosmtpd peers (one port, four 127.x
# addresses) each note the client that delivered to them (X-Peer); two
# --source addresses must each be seen, by two hosts apiece. The same holds
# for a worker that joins a prepared run (--join RUN, on SQLite a resume).
import re

from peers import aiosmtpd, ports, relayscope
from peers.survey_case import SurveyCase

SOURCES = ("127.0.0.2", "127.0.0.3")


class SurveySourceTest(SurveyCase):
    def start_peers(self, n=4):
        addrs = ports.distinct_loopbacks(n)
        port = ports.free_port_all(addrs)
        servers = [aiosmtpd.start_aiosmtpd(self, self.dir, addr=a, port=port) for a in addrs]
        self.start_dns({"s%d.test" % i: a for i, a in enumerate(addrs)})
        return servers, port

    def client_of(self, server, token):
        msg = server.wait_for(token)
        m = re.search(r"(?im)^x-peer: \('([0-9.]+)'", msg)
        self.assertTrue(m, "aiosmtpd noted no client address:\n" + msg[:800])
        return m.group(1)

    def assert_turns(self, servers):
        rows = relayscope.by_ip(relayscope.hosts_csv(self.db))
        seen = {}
        for s in servers:
            row = rows[s.addr][0]
            self.assertOutcome(row, "OK")
            client = self.client_of(s, row["token"])
            seen[client] = seen.get(client, 0) + 1
        self.assertEqual(seen, {SOURCES[0]: 2, SOURCES[1]: 2},
                         "each --source address should carry two of the four hosts")

    def test_two_sources_share_the_probes(self):
        servers, port = self.start_peers()
        extra = []
        for s in SOURCES:
            extra += ["--source", s]
        self.survey(["s%d.test" % i for i in range(4)], port, extra=extra)
        self.assert_turns(servers)

    def test_a_joining_worker_uses_its_own_sources(self):
        servers, port = self.start_peers()
        r = self.survey(["s%d.test" % i for i in range(4)], port, extra=["--prepare-only"])
        run_id = r.stdout.strip().splitlines()[-1]
        w = relayscope.run(["survey", "--db", self.db, "--join", run_id, "--concurrency", "4",
                            "--source", SOURCES[0], "--source", SOURCES[1]])
        self.assertEqual(w.returncode, 0, w.describe())
        self.assert_turns(servers)

    def test_a_source_that_is_not_an_address_is_a_usage_error(self):
        self.start_dns({"s0.test": ports.random_loopback()})
        r = self.survey(["s0.test"], 25, extra=["--source", "127.0.0.2", "--source", "nowhere"],
                        expect_exit=2)
        self.assertIn("--source", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
