# The survey at Internet scale, black box (issue 12; issue 15 item 7):
# - the `internet` lab profile (per-host round trips, slow greetings, error
#   sleeps, hang-ups after 3 errors, tarpits, silent hosts, greylisting)
#   surveyed with a --timeout above its longest greeting: every host
#   classified as the lab's truth says (a greylisting host as TO);
# - excluded addresses drop out of the funnel before the sample, counted in
#   runs.excluded, never probed and never CONNECT;
# - a --concurrency beyond the open-files limit (set low with prlimit) is
#   capped, said so, and every host still classified as the truth says.
import os
import sqlite3
import subprocess
import unittest

from peers import process, relayscope, workdir
from peers.lab import start_lab, write_profile


class SurveyInternetTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)

    def assertClassifiedAsTheTruthSays(self, lab, db, only=None):
        truth = lab.hosts()
        if only is not None:
            truth = {ip: h for ip, h in truth.items() if ip in only}
        rows = relayscope.hosts_csv(db)
        self.assertEqual(sorted(r["ip"] for r in rows), sorted(truth), "hosts probed")
        wrong = [(r["ip"], truth[r["ip"]]["behaviour"], truth[r["ip"]]["expected_outcome"],
                  r["outcome"], r["reason"])
                 for r in rows if r["outcome"] != truth[r["ip"]]["expected_outcome"]]
        self.assertEqual(wrong, [], "hosts classified against the lab's truth")
        return rows, truth

    def test_internet_profile_classified_as_the_truth_says(self):
        lab = start_lab(self, self.dir, profile="internet", domains=60, seed=3)
        truth = lab.truth()
        timings = [h["timing"] for h in truth["hosts"]]
        self.assertTrue(all(0 < t["rtt_ms"] <= 1000 for t in timings), timings)
        db = os.path.join(self.dir, "internet.db")
        # --timeout above the longest greeting (30 s) plus a round trip.
        r = relayscope.survey(lab.names, lab.dns, db, lab.port, timeout=35, concurrency=100,
                              domains=False, extra=["--quiet"], wall_timeout=400)
        self.assertEqual(r.returncode, 0, r.describe() + "\n" + lab.output())
        self.assertClassifiedAsTheTruthSays(lab, db)

    def test_excluded_addresses_drop_out_before_the_sample(self):
        profile = write_profile(self.dir, "closed", {"TO": {"relay_denied": 1}}, domains=20)
        lab = start_lab(self, self.dir, profile=profile)
        ips = sorted(lab.hosts())
        excluded = ips[:5]
        exclude_file = os.path.join(self.dir, "exclude.txt")
        with open(exclude_file, "w") as f:
            f.write("# opt-outs\n" + "".join(ip + "\n" for ip in excluded))
        db = os.path.join(self.dir, "excluded.db")
        r = relayscope.survey(lab.names, lab.dns, db, lab.port, timeout=5, concurrency=20,
                              domains=False, extra=["--quiet", "--exclude", exclude_file])
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertIn("20 resolved hosts, 5 excluded, 15 sampled", r.stdout)
        rows, _ = self.assertClassifiedAsTheTruthSays(lab, db, only=set(ips[5:]))
        self.assertNotIn("CONNECT", [row["outcome"] for row in rows])
        with sqlite3.connect(db) as con:
            self.assertEqual(con.execute("SELECT excluded, sampled FROM runs").fetchall(),
                             [(5, 15)])

    def test_concurrency_beyond_the_open_files_limit_is_capped_not_failed(self):
        profile = write_profile(self.dir, "mixed",
                                {"TO": {"relay_denied": 3}, "OK": {"accept_drop": 1},
                                 "CONNECT": {"no_greeting": 1}}, domains=150)
        lab = start_lab(self, self.dir, profile=profile)
        db = os.path.join(self.dir, "capped.db")
        argv = ["prlimit", "--nofile=100:100", relayscope.binary(), "survey", "--targets",
                lab.names, "--dns", lab.dns, "--db", db, "--port", str(lab.port), "--timeout",
                "3", "--concurrency", "1000", "--scope", "127.0.0.0/8", "--quiet",
                "--helo", "probe.relayscope.test",
                # One process, capped (the default would spread the
                # concurrency over processes: test_survey_processes).
                "--processes", "1"]
        r = process.run(argv, timeout=300)
        describe = "exit %s\n%s\n%s" % (r.returncode, r.stdout, r.stderr)
        self.assertEqual(r.returncode, 0, describe)
        self.assertIn("exceeds what the open-files limit (100) allows", r.stderr, describe)
        self.assertClassifiedAsTheTruthSays(lab, db)


if __name__ == "__main__":
    unittest.main()
