# The relay server's DNSBL check end to end: a survey finds an open relay,
# `relayscope dnsbl export` lists it, rbldnsd serves the zone on loopback, and
# the relay configured with that zone refuses a client connecting from the
# listed address (554 5.7.1 with the list's TXT reason) while an unlisted
# client is served. A DNSBL that does not answer lets clients in.
import os
import socket
import unittest
import uuid

from peers import aiosmtpd, dns, ports, rbldnsd, relayscope
from peers.relay_delivery import start_relay
from peers.relay_delivery_sink import start_sink
from peers.survey_case import SurveyCase

ZONE = "dnsbl.relayscope.test"


def greeting(relay, source):
    """The first reply the relay gives a client bound to `source`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    try:
        s.bind((source, 0))
        s.connect((relay.addr, relay.port))
        f = s.makefile("rb")
        lines = []
        while True:
            line = f.readline(4096).decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                break
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        f.close()
        return lines
    finally:
        s.close()


class RelayDnsblTest(SurveyCase):
    def listed_zone(self):
        """Surveys one open relay and serves the export with rbldnsd; returns
        (rbldnsd, the open relay's address)."""
        open_relay = aiosmtpd.start_aiosmtpd(self, self.dir)
        self.start_dns({"open.test": open_relay.addr})
        self.survey(["open.test"], open_relay.port)
        self.assertEqual(self.host_rows()["open.test"]["outcome"], "OK")
        zone = os.path.join(self.dir, "zone", "relays.zone")
        os.makedirs(os.path.dirname(zone))
        r = relayscope.run(["dnsbl", "export", "--db", self.db, "--format", "rbldnsd", "--zone",
                            ZONE, "--out", zone])
        self.assertEqual(r.returncode, 0, r.describe())
        server = rbldnsd.start_rbldnsd(self, self.dir, ZONE, zone)
        self.assertEqual(server.query(open_relay.addr)[1], ["127.0.0.2"])
        return server, open_relay.addr

    def relay_with(self, dnsbl_server):
        sink = start_sink(self, self.dir)
        # 127.0.0.3 is local: no client in this test is, so every one is checked.
        return start_relay(self, os.path.join(self.dir), local_networks=("127.0.0.3/32",),
                           delivery={"smarthost": "%s:%d" % (sink.addr, sink.port)},
                           dnsbl={"zones": [ZONE], "dns": [dnsbl_server], "timeout": "1s"},
                           users=("bob",))

    def test_listed_client_is_refused_with_the_lists_reason(self):
        server, listed = self.listed_zone()
        relay = self.relay_with("%s:%d" % (server.addr, server.port))
        _, txt = server.query(listed, "TXT")
        self.assertEqual(len(txt), 1)
        reason = txt[0].strip('"')

        lines = greeting(relay, listed)
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].startswith("554 5.7.1 "), lines)
        self.assertIn(ZONE, lines[0])
        self.assertIn(reason, lines[0])
        self.assertIn("Open relay", lines[0])
        # RFC 5782's test entry is listed too.
        self.assertTrue(greeting(relay, "127.0.0.2")[0].startswith("554 5.7.1 "))

        # An address the list does not hold is served, and its mail delivered.
        unlisted = ports.random_loopback()
        self.assertEqual(server.query(unlisted)[0], "NXDOMAIN")
        self.assertTrue(greeting(relay, unlisted)[0].startswith("220 "))
        t = "dnsbl-" + uuid.uuid4().hex
        relay.send("someone@client.example.org", ["bob@example.test"], t, source=unlisted)
        relay.wait_maildir("bob@example.test", t)
        self.assertIn("refused at connect", relay.log())

    def test_a_dnsbl_that_does_not_answer_lets_clients_in(self):
        # Nothing listens at this address: every lookup times out.
        silent = ports.random_loopback()
        relay = self.relay_with("%s:%d" % (silent, dns.free_dns_port(silent)))
        lines = greeting(relay, "127.0.0.2")
        self.assertTrue(lines[0].startswith("220 "), lines)
        self.assertIn("client let in", relay.log())


if __name__ == "__main__":
    unittest.main()
