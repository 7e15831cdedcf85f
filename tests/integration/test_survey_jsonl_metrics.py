# `survey --jsonl FILE|-` and `survey --metrics ADDR:PORT` against a lab:
# one JSON line per sampled host, each with the fields `report --hosts
# --format json` gives for the same run (delivered and bounced null: the
# collector learns them later); with `--jsonl -` standard output is JSON lines
# only and the summary goes to standard error. The metrics endpoint is
# scraped with curl while the survey runs.
import json
import os
import re
import subprocess
import unittest

from peers import ports, process, relayscope, workdir
from peers.lab import start_lab

CURL = "/usr/bin/curl"


def scrape(where):
    r = subprocess.run([CURL, "--silent", "--show-error", "--max-time", "10", "--noproxy", "*",
                        "http://%s/metrics" % where], capture_output=True, text=True, timeout=30)
    return r.stdout if r.returncode == 0 else None


def sample(body, series):
    m = re.search(r"(?m)^%s (\S+)$" % re.escape(series), body or "")
    return float(m.group(1)) if m else None


class SurveyJsonlTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)
        self.lab = start_lab(self, self.dir, profile="modern", domains=40, seed=5)
        self.db = os.path.join(self.dir, "r.db")

    def survey_args(self, *extra):
        return ["survey", "--targets", self.lab.names, "--dns", self.lab.dns,
                "--db", self.db, "--port", self.lab.port, "--timeout", 5, "--concurrency", 8,
                "--scope", "127.0.0.0/8", "--helo", "probe.relayscope.test", "--sample", 25,
                "--seed", 3,
                # The lab's greylisting hosts would hold the run for the
                # default 6 minutes (test_survey_greylist covers the retry).
                "--greylist-retry", 0] + list(extra)

    def report_hosts(self):
        r = relayscope.report(self.db, "--hosts", "--format", "json")
        self.assertEqual(r.returncode, 0, r.describe())
        return {h["ip"]: h for h in json.loads(r.stdout)["hosts"]}

    def assertLinesAreTheReportsHosts(self, text):
        lines = text.splitlines()
        objs = [json.loads(line) for line in lines]  # every line parses
        hosts = self.report_hosts()
        self.assertEqual(len(objs), 25, "one line per sampled host")
        self.assertEqual(sorted(o["ip"] for o in objs), sorted(hosts), "the same hosts")
        for o in objs:
            h = hosts[o["ip"]]
            self.assertEqual(sorted(o), sorted(h), "the same fields")
            self.assertIsNone(o["delivered"])
            self.assertIsNone(o["bounced"])
            for k in h:
                if k not in ("delivered", "bounced"):
                    self.assertEqual(o[k], h[k], "%s of %s" % (k, o["ip"]))
        self.assertGreater(len({o["outcome"] for o in objs}), 1, "a lab of several outcomes")
        return objs

    def test_jsonl_on_standard_output_is_json_lines_only(self):
        r = relayscope.run(self.survey_args("--jsonl", "-"))
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertLinesAreTheReportsHosts(r.stdout)
        # The summary went to standard error.
        self.assertRegex(r.stderr, r"(?m)^run \d+: ")
        self.assertRegex(r.stderr, r"(?m)^time: ")

    def test_jsonl_file_and_metrics_scraped_while_the_survey_runs(self):
        out = os.path.join(self.dir, "probes.jsonl")
        maddr = ports.random_loopback()
        mport = ports.free_port(maddr)
        where = "%s:%d" % (maddr, mport)
        # --rate keeps the run going for a few seconds, long enough to scrape.
        p = process.Process([relayscope.binary()] + [str(a) for a in self.survey_args(
            "--jsonl", out, "--metrics", where, "--rate", 6)], self.dir, "survey")
        self.addCleanup(p.stop)
        ports.wait_for_port(maddr, mport, 30, alive=p.alive)

        def running_and_stored():
            body = scrape(where)
            if (sample(body, "relayscope_survey_store_writes_total") or 0) >= 1 and \
                    (sample(body, "relayscope_survey_probes_finished_total") or 0) >= 2:
                return body
            return None
        body = ports.wait_until(running_and_stored, 60, "probes finished and stored",
                                interval=0.1, alive=p.alive)
        self.assertTrue(p.alive(), "scraped while the survey runs")
        started = sample(body, "relayscope_survey_probes_started_total")
        finished = sample(body, "relayscope_survey_probes_finished_total")
        in_flight = sample(body, "relayscope_survey_probes_in_flight")
        self.assertGreaterEqual(started, finished)
        self.assertEqual(in_flight, started - finished
                         - sample(body, "relayscope_survey_local_failures_total"), body)
        self.assertGreater(sample(body, "relayscope_survey_probes_per_second"), 0, body)
        self.assertIsNotNone(sample(body, "relayscope_survey_store_writes_per_second"), body)
        by_step = sum(float(v) for v in re.findall(
            r'(?m)^relayscope_survey_outcomes_total\{outcome="[A-Z]+"\} (\S+)$', body))
        self.assertEqual(by_step, finished, body)
        self.assertIn("# TYPE relayscope_survey_outcomes_total counter", body)
        # The lines written so far are whole lines (a reader can follow the file).
        with open(out) as f:
            for line in f.read().splitlines():
                json.loads(line)

        self.assertEqual(p.wait(120), 0, p.output() if hasattr(p, "output") else "")
        with open(out) as f:
            self.assertLinesAreTheReportsHosts(f.read())

    def test_an_unwritable_jsonl_file_is_a_usage_error(self):
        r = relayscope.run(self.survey_args("--jsonl", os.path.join(self.dir, "no", "x.jsonl")))
        self.assertEqual(r.returncode, 2, r.describe())
        self.assertIn("--jsonl", r.stderr)
        self.assertFalse(os.path.exists(self.db), "nothing started")


if __name__ == "__main__":
    unittest.main()
