# relayscope dnsbl export, end to end: survey an open and a closed host, export
# the open relays, serve the zone with rbldnsd on loopback, and ask it as a
# mail server would (RFC 5782 query form). A later run that finds the open host
# closed delists it. The relay server's refusal of a listed client is tested
# in test_relay_dnsbl.py.
import os
import subprocess
import unittest

from peers import aiosmtpd, fake_smtp, ports, rbldnsd, relayscope
from peers.survey_case import SurveyCase

ZONE = "dnsbl.relayscope.test"


class DnsblExportTest(SurveyCase):
    def export(self, fmt, name, extra=()):
        out = os.path.join(self.dir, "zone", name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = relayscope.run(["dnsbl", "export", "--db", self.db, "--format", fmt, "--zone", ZONE,
                            "--out", out] + list(extra))
        self.assertEqual(r.returncode, 0, r.describe())
        with open(out) as f:
            return out, f.read()

    def test_open_relays_are_listed_served_and_delisted(self):
        open_relay = aiosmtpd.start_aiosmtpd(self, self.dir)
        closed_addr = ports.random_loopback()
        closed = fake_smtp.start_fake_smtp(self, self.dir, [(closed_addr, "relay_denied")],
                                           port=open_relay.port)
        self.start_dns({"open.test": open_relay.addr, "closed.test": closed_addr})
        self.survey(["open.test", "closed.test"], open_relay.port)
        rows = self.host_rows()
        self.assertEqual(rows["open.test"]["outcome"], "OK")
        self.assertEqual(rows["closed.test"]["outcome"], "TO")

        path, text = self.export("rbldnsd", "relays.zone")
        server = rbldnsd.start_rbldnsd(self, self.dir, ZONE, path)
        status, answers = server.query(open_relay.addr)
        self.assertEqual((status, answers), ("NOERROR", ["127.0.0.2"]), text)
        status, txt = server.query(open_relay.addr, "TXT")
        self.assertEqual(len(txt), 1)
        self.assertIn("Open relay", txt[0])
        self.assertIn("imc", txt[0])
        self.assertEqual(server.query(closed_addr)[0], "NXDOMAIN")
        # RFC 5782 section 5: 127.0.0.2 is listed, 127.0.0.1 never is.
        self.assertEqual(server.query("127.0.0.2")[1], ["127.0.0.2"])
        self.assertEqual(server.query("127.0.0.1")[0], "NXDOMAIN")

        _, bind = self.export("bind", "relays.bind")
        reversed_name = ".".join(reversed(open_relay.addr.split(".")))
        self.assertIn("%s IN A 127.0.0.2" % reversed_name, bind)
        self.assertIn("2.0.0.127 IN A 127.0.0.2", bind)
        self.assertNotIn(".".join(reversed(closed_addr.split("."))) + " IN", bind)
        # BIND's own checker loads the zone (its name server has glue).
        check = subprocess.run(["named-checkzone", ZONE, os.path.join(self.dir, "zone",
                                                                      "relays.bind")],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

        # aiosmtpd accepted the test but no collector ever saw it arrive: on
        # delivered evidence alone it is not listed.
        _, strict = self.export("rbldnsd", "relays-delivered.zone", ["--evidence", "delivered"])
        self.assertNotIn("\n%s " % open_relay.addr, strict)
        self.assertIn("\n127.0.0.2 ", strict)

        # The open host is fixed: a later run reaches it and it refuses to relay.
        open_relay.stop()
        # (its own directory: each fake's readiness file must be its own)
        fixed = fake_smtp.start_fake_smtp(self, os.path.join(self.dir, "later"),
                                          [(open_relay.addr, "relay_denied")],
                                          port=open_relay.port)
        self.survey(["open.test"], fixed.port)
        _, later = self.export("rbldnsd", "relays-later.zone")
        self.assertNotIn("\n%s " % open_relay.addr, later)
        self.assertIn("\n127.0.0.2 ", later)

    def test_export_of_a_missing_database_is_a_clear_error(self):
        r = relayscope.run(["dnsbl", "export", "--db", os.path.join(self.dir, "none.db"),
                            "--format", "rbldnsd"])
        self.assertEqual(r.returncode, 2, r.describe())
        self.assertIn("none.db", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "none.db")))


if __name__ == "__main__":
    unittest.main()
