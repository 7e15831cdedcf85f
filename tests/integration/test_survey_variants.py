# relayscope survey --variants all against a server that, like Postfix at
# smtpd_hard_error_limit, answers 421 and closes after so many errors: the
# tricks are nearly thirty refusals in a row, so the survey must reconnect
# (one connection at a time, as long as each connection answers a variant,
# within --host-timeout: issue 12 item 7) and record every variant, relaying
# ones found after a reconnection included, and those it could not try as
# NOT_TRIED rather than not at all.
import os
import re
import sqlite3
import unittest

from peers import fake_smtp, ports, postfix
from peers.survey_case import SurveyCase


# Spellings the fake relays for, both far enough down the list that a
# 10-error limit cuts the dialogue before them: source-route-literal
# ("<@[127.x.y.z]:...") and trailing-dot-domain ("...@domain.>").
RELAYS_FOR = {"source-route-literal": r"^TO:<@\[", "trailing-dot-domain": r"\.>$"}


def variants_by_ip(db):
    """{ip: [(name, outcome, code)]} in the order the survey recorded them."""
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT p.ip, v.name, v.outcome, v.code FROM variants v "
                         "JOIN probes p ON p.id = v.probe_id ORDER BY p.ip, v.seq").fetchall()
    out = {}
    for ip, name, outcome, code in rows:
        out.setdefault(ip, []).append((name, outcome, code))
    return out


class VariantsReconnectTest(SurveyCase):
    timeout = 5

    def test_a_421_after_too_many_errors_costs_no_variant(self):
        patient, strict, plain = ports.distinct_loopbacks(3)
        accept = sorted(RELAYS_FOR.values())
        hosts = [(patient, "error_limit", {"limit": 10, "accept": accept}),
                 (strict, "error_limit", {"limit": 2, "accept": accept}),
                 (plain, "relay_denied", {})]
        fake = fake_smtp.start_fake_smtp(self, self.dir, hosts, idle_timeout=30)
        self.start_dns({"patient.test": patient, "strict.test": strict, "plain.test": plain})
        self.survey(["patient.test", "strict.test", "plain.test"], fake.port,
                    extra=["--variants", "all"])

        rows = self.host_rows()
        variants = variants_by_ip(self.db)
        # Every host gets the same full list (the IMC's test first), each once.
        names = [n for n, _o, _c in variants[plain]]
        self.assertEqual(names[0], "imc")
        self.assertGreater(len(names), 20, names)
        self.assertEqual(len(set(names)), len(names), names)
        for ip in (patient, strict):
            self.assertEqual([n for n, _o, _c in variants[ip]], names, variants[ip])
            self.assertOutcome(rows["%s.test" % ("patient" if ip == patient else "strict")],
                               "TO", 554)

        log = fake.by_addr()
        for ip, conns in log.items():
            # One connection at a time: the next opens only after the 421.
            conns.sort(key=lambda c: c["opened"])
            for before, after in zip(conns, conns[1:]):
                self.assertIn("cut_at", before, conns)
                self.assertGreaterEqual(after["opened"], before["cut_at"], conns)
            self.assertFalse(any(c["early_talk"] for c in conns), conns)

        # Limit 10: cut twice, and the relaying spellings are found on the
        # connections after the cuts; nothing is left untried.
        got = {n: (o, c) for n, o, c in variants[patient]}
        self.assertEqual(len(log[patient]), 3, log[patient])
        self.assertEqual({n for n, (o, _c) in got.items() if o == "OK"}, set(RELAYS_FOR), got)
        self.assertEqual({o for o, _c in got.values()}, {"TO", "OK"}, got)
        self.assertEqual(set(filter(None, rows["patient.test"]["relaying_variants"].split(";"))),
                         set(RELAYS_FOR))

        # Limit 2: each connection answers a variant or two before the 421;
        # the survey reconnects as long as each one makes progress (no fixed
        # count), so every variant is tried, none left NOT_TRIED, on at most
        # one connection per variant (plus the first); the relaying spellings
        # far down the list, which 3 reconnections never reached, are found.
        got = variants[strict]
        self.assertGreater(len(log[strict]), 4, log[strict])
        self.assertLessEqual(len(log[strict]), len(names) + 1, log[strict])
        self.assertEqual([n for n, o, _c in got if o == "NOT_TRIED"], [], got)
        self.assertEqual({n for n, o, _c in got if o == "OK"}, set(RELAYS_FOR), got)
        self.assertTrue(all(o == "TO" for n, o, _c in got if n not in RELAYS_FOR), got)

        # Transcript times run on from the probe's start through every
        # reconnection and note (issue 11: they restarted at 0).
        with sqlite3.connect(self.db) as con:
            times = [t for (t,) in con.execute(
                "SELECT l.t_us FROM transcript_lines l JOIN probes p ON p.id = l.probe_id "
                "WHERE p.ip = ? ORDER BY l.seq", (strict,))]
        self.assertGreater(len(times), 20, times)
        self.assertEqual(times, sorted(times), "transcript times went back")
        self.assertGreater(times[-1], 0, times)

        # A host that never closes gets one connection, as before.
        self.assertEqual(len(log[plain]), 1, log[plain])
        self.assertEqual({o for _n, o, _c in variants[plain]}, {"TO"})


    @unittest.skipUnless(os.geteuid() == 0, "a private Postfix needs root")
    def test_a_closed_postfix_at_its_hard_error_limit_gets_every_variant_tried(self):
        addr = ports.random_loopback()
        closed = postfix.start_postfix(self, self.dir + "/closed", addr=addr,
                                       mynetworks="127.0.0.2/32", hostname="mx.closed.test",
                                       extra_main_cf={"smtpd_hard_error_limit": "10"})
        self.start_dns({"closed.test": closed.addr})
        self.survey(["closed.test"], closed.port, extra=["--variants", "all"])

        got = variants_by_ip(self.db)[closed.addr]
        names = [n for n, _o, _c in got]
        self.assertEqual(len(set(names)), len(names), names)
        self.assertGreater(len(names), 20, names)
        # Postfix cut the dialogue (and said so); every variant was still tried
        # and refused, on at most MAX_CONNECTIONS connections.
        log = closed.log()
        self.assertIn("too many errors", log)
        connections = len(re.findall(r"\bconnect from ", log))
        self.assertGreater(connections, 1, log)
        self.assertLessEqual(connections, len(names) + 1, log)
        self.assertEqual([(n, o, c) for n, o, c in got if o in ("NOT_TRIED", "OK") or c == 421],
                         [], got)
        self.assertEqual(closed.sink.messages(), [], "the closed Postfix relayed something")


if __name__ == "__main__":
    unittest.main()
