# relayscope demo, the README's main command: the lab with profile
# imc-1999-07 surveyed the IMC's way. Its funnel is the IMC's, every probed
# host gets the outcome its simulated behaviour calls for, and the outcome
# shares land within sampling error of the profile's.
import json
import math
import os
import re
import signal
import sqlite3
import unittest

from peers import ports, process, relayscope, workdir

# The profile's shares of resolved hosts (the IMC's July 1999 figures).
PROFILE = {"CONNECT": 5.0, "TO": 71.0, "DATA": 0.6, "OK": 23.2}
RESOLVED = 3844
SAMPLE = 500


class DemoTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)

    def test_demo_reproduces_the_imc_survey_of_july_1999(self):
        db = os.path.join(self.dir, "demo.db")
        truth_path = os.path.join(self.dir, "truth.json")
        r = relayscope.run(["demo", "--sample", SAMPLE, "--seed", 1999, "--db", db,
                            "--truth-out", truth_path], timeout=300)
        self.assertEqual(r.returncode, 0, r.describe())
        out = r.stdout

        # The funnel beside the IMC's: the lab reproduces it exactly.
        for label, n in (("Names", 9238), ("Unique mail hosts", 3896), ("Resolved hosts", 3844),
                         ("Sampled", SAMPLE)):
            self.assertRegex(out, r"(?m)^%s\s+%d\s+%d$" % (label, n, n), out)

        # Each outcome row: ours, our percent, the IMC's, the IMC's percent.
        rows = {m.group(1): (int(m.group(2)), float(m.group(3)))
                for m in re.finditer(r"(?m)^(CONNECT|EHLO|MAIL|TO|DATA|QUIT|OK)\s+(\d+)\s+([\d.]+)", out)}
        self.assertEqual(sum(n for n, _ in rows.values()), SAMPLE, out)
        for outcome, share in PROFILE.items():
            p = share / 100
            # Sampling without replacement from the lab's hosts.
            sd = math.sqrt(p * (1 - p) / SAMPLE * (RESOLVED - SAMPLE) / (RESOLVED - 1))
            got = rows.get(outcome, (0, 0.0))[0] / SAMPLE
            self.assertLessEqual(abs(got - p), 4 * sd + 1e-9,
                                 "%s: %.3f vs profile %.3f\n%s" % (outcome, got, p, out))

        # Each share with its 95% Wilson interval and whether the IMC's figure
        # lies inside it; each response shown is explained in one line.
        verdicts = re.findall(r"(?m)^(CONNECT|EHLO|MAIL|TO|DATA|QUIT|OK)\s+\d+\s+[\d.]+\s+\d+\s+"
                              r"([\d.]+)\s+([\d.]+)-([\d.]+)\s+(within sampling noise|"
                              r"outside: a real difference)$", out)
        self.assertEqual(sorted(v[0] for v in verdicts), sorted(rows), out)
        for outcome, imc_pct, low, high, verdict in verdicts:
            imc_pct, low, high = float(imc_pct), float(low), float(high)
            # Printed to one decimal: a figure at an end could fall either way.
            if min(abs(imc_pct - low), abs(imc_pct - high)) > 0.05:
                self.assertEqual(verdict == "within sampling noise", low <= imc_pct <= high, out)
            self.assertRegex(out, r"(?m)^  %s +\S.{20,}$" % outcome, out)
        self.assertRegex(out, r"Delivered \+ bounced \(\d+ \+ \d+\) is less than OK \(\d+\)", out)

        # Host by host: what the survey saw is what the lab's host does.
        with open(truth_path) as f:
            truth = {h["ip"]: h for h in json.load(f)["hosts"]}
        probed = relayscope.hosts_csv(db)
        self.assertEqual(len(probed), SAMPLE)
        wrong = [(row["ip"], truth[row["ip"]]["behaviour"], truth[row["ip"]]["expected_outcome"],
                  row["outcome"], row["reason"])
                 for row in probed if truth[row["ip"]]["expected_outcome"] != row["outcome"]]
        self.assertEqual(wrong, [], "hosts classified against their behaviour")

        # Delivered and bounced are what the sampled hosts really did with the
        # test message: each relaying host counted once, by its fate in the
        # plan and by the lab's ledger (written once the demo has drained);
        # hosts that accept and drop the message count in neither.
        sampled = [truth[row["ip"]] for row in probed]

        def fated(fate):
            return sum(1 for h in sampled if h["fate"] == fate)

        def really(event):
            return sum(1 for h in sampled if h.get("events", {}).get(event, 0) > 0)

        printed = {m.group(1): int(m.group(2))
                   for m in re.finditer(r"(?m)^(Delivered|Bounced)\s+(\d+)", out)}
        self.assertGreater(fated("delivered"), 0, out)
        self.assertGreater(fated("bounced"), 0, out)
        self.assertGreater(fated("dropped"), 0, out)
        for label, fate in (("Delivered", "delivered"), ("Bounced", "bounced")):
            self.assertEqual(printed.get(label), fated(fate), "%s\n%s" % (label, out))
            self.assertEqual(printed.get(label), really(fate), "%s\n%s" % (label, out))
            # One test message per host, so one delivery (or one DSN) each.
            self.assertEqual({h["events"][fate] for h in sampled if h["fate"] == fate}, {1}, label)
        # Host by host, in the store: the right hosts, none twice.
        wrong_fate = [(row["ip"], truth[row["ip"]]["fate"], row["delivered"], row["bounced"])
                      for row in probed
                      if (row["delivered"], row["bounced"]) !=
                      {"delivered": ("1", "0"), "bounced": ("0", "1")}.get(
                          truth[row["ip"]]["fate"], ("0", "0"))]
        self.assertEqual(wrong_fate, [], "delivered/bounced against the lab's fates")

    def arrivals(self, db):
        try:
            with sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=1) as c:
                return c.execute("SELECT COUNT(*) FROM arrivals").fetchone()[0]
        except sqlite3.Error:
            return 0  # not created yet, or busy: ask again

    def test_a_signal_while_deliveries_are_in_flight_stops_the_demo_in_order(self):
        # SIGINT (Ctrl-C) or SIGTERM once the lab's hosts are passing mail on
        # to the collector: the demo stops the survey, the lab and the
        # collector in order, removes its temporary files and exits with 130;
        # no death by a signal, no sanitizer report.
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig.name):
                tmp = os.path.join(self.dir, "tmp-" + sig.name)
                os.mkdir(tmp)
                db = os.path.join(self.dir, sig.name + ".db")
                env = dict(os.environ, TMPDIR=tmp)
                demo = process.start(
                    self, [relayscope.binary(), "demo", "--sample", SAMPLE, "--seed", 1999,
                           "--concurrency", 20, "--db", db], self.dir, "demo-" + sig.name,
                    env=env)

                def started():
                    with open(demo.stdout_path) as f:
                        return "surveying the lab" in f.read()

                ports.wait_until(started, 120, "the demo's survey", alive=demo.alive)
                # Relayed messages and bounces are arriving: more are in flight.
                ports.wait_until(lambda: self.arrivals(db) > 0, 120,
                                 "the first arrival at the collector", interval=0.05,
                                 alive=demo.alive)
                os.kill(demo.pid, sig)
                status = demo.wait(120)
                out = demo.output()
                self.assertEqual(status, 130, out)
                with open(demo.stderr_path) as f:
                    err = f.read()
                self.assertIn("relayscope demo: interrupted", err, out)
                self.assertNotIn("Sanitizer", err, out)
                self.assertNotIn("runtime error", err, out)
                self.assertEqual(os.listdir(tmp), [], "the demo's temporary files are left")


if __name__ == "__main__":
    unittest.main()
