# `survey --processes N` (issue 12: 50,000 probes in flight past the
# 20,000-descriptor limit of one process; issue 15: one metrics endpoint for
# them) against a lab: the parent prepares and writes the store, three
# probing children probe.
# - every host's outcome is the lab's truth (greylisting hosts retried by
#   their child and judged by the retry), each host has exactly one probe
#   row, three children ran, and the one --metrics endpoint (the parent's)
#   sums them: scraped while the run waits for its greylist retries, its
#   totals are the run's;
# - Ctrl-C (SIGINT to the process group, as a terminal sends it) stops all of
#   them in order: exit 130, what finished is stored once, and --resume
#   finishes the run with no host probed twice;
# - a child killed outright is reported on stderr, the run exits 1, and
#   --resume probes the hosts it had not finished.
import os
import re
import signal
import sqlite3
import subprocess
import unittest

from peers import ports, process, relayscope, workdir
from peers.lab import start_lab, write_profile

CURL = "/usr/bin/curl"
LAB_GREYLIST_MS = 1500


def scrape(where):
    r = subprocess.run([CURL, "--silent", "--show-error", "--max-time", "5", "--noproxy", "*",
                        "http://%s/metrics" % where], capture_output=True, text=True, timeout=30)
    return r.stdout if r.returncode == 0 else None


def sample(body, series):
    m = re.search(r"(?m)^%s (\S+)$" % re.escape(series), body or "")
    return float(m.group(1)) if m else None


def probing_children(pid):
    """Pids of the survey's probing children, from /proc."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        return []
    found = []
    for k in kids:
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                if b"--probing-child" in f.read():
                    found.append(k)
        except OSError:
            pass
    return found


class SurveyProcessesTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)
        self.db = os.path.join(self.dir, "r.db")

    def start(self, domains, greeting_ms=0, greylist=True):
        path = write_profile(self.dir, "procs",
                             {"TO": {"relay_denied": 3}, "OK": {"relay": 2},
                              "MAIL": {"mail_rejected": 1}, "CONNECT": {"greeting_554": 1}},
                             domains=domains)
        with open(path, "a") as f:
            f.write("[timing]\ngreylist_share = %d\ngreylist_delay_ms = %d\n" %
                    (40 if greylist else 0, LAB_GREYLIST_MS))
        extra = ["--greeting-delay-ms", greeting_ms] if greeting_ms else []
        self.lab = start_lab(self, self.dir, profile=path, seed=9, extra=extra)
        self.truth = self.lab.hosts()

    def args(self, *extra):
        return ["survey", "--targets", self.lab.names, "--dns", self.lab.dns, "--db", self.db,
                "--port", self.lab.port, "--timeout", 5, "--scope", "127.0.0.0/8",
                "--helo", "probe.relayscope.test", "--processes", 3] + list(extra)

    def rows(self):
        """The probe rows' host ids (none while the store is being made)."""
        if not os.path.exists(self.db):
            return []
        con = sqlite3.connect(self.db, timeout=10)
        try:
            return [r[0] for r in con.execute("SELECT host_id FROM probes")]
        except sqlite3.OperationalError:
            return []
        finally:
            con.close()

    def assertEveryHostOnceAsTheTruthSays(self):
        ids = self.rows()
        self.assertEqual(len(ids), len(set(ids)), "a host with two probe rows")
        rows = relayscope.hosts_csv(self.db)
        got = {r["ip"]: (r["outcome"], r["greylisted"]) for r in rows}
        want = {ip: (h.get("expected_outcome_after_retry", h["expected_outcome"]),
                     "yes" if h["timing"]["greylisted"] else "no")
                for ip, h in self.truth.items()}
        self.assertEqual(got, want)
        return rows

    def test_three_children_one_writer_one_metrics_endpoint(self):
        self.start(domains=35)
        greylisting = sum(1 for h in self.truth.values() if h["timing"]["greylisted"])
        self.assertGreater(greylisting, 0, "the seed gives greylisting hosts")
        maddr = ports.random_loopback()
        where = "%s:%d" % (maddr, ports.free_port(maddr))
        # The retry waits past the lab's delay: the run then has a few seconds
        # with every first try done and stored and nothing in flight.
        p = process.start(self, [relayscope.binary()] + [str(a) for a in self.args(
            "--concurrency", 35, "--metrics", where, "--greylist-retry", "5s")],
            self.dir, "survey")
        ports.wait_for_port(maddr, int(where.rsplit(":", 1)[1]), 30, alive=p.alive)
        hosts = len(self.truth)

        def first_tries_done_and_stored():
            body = scrape(where)
            started = sample(body, "relayscope_survey_probes_started_total")
            finished = sample(body, "relayscope_survey_probes_finished_total")
            stored = sample(body, "relayscope_survey_store_writes_total")
            if started == hosts and finished is not None and stored == finished and \
                    sample(body, "relayscope_survey_probes_in_flight") == 0:
                return body, True
            return None
        body, _children = ports.wait_until(first_tries_done_and_stored, 60,
                                          "every first try done and stored", interval=0.05,
                                          alive=p.alive)
        finished = sample(body, "relayscope_survey_probes_finished_total")
        deferred = sample(body, "relayscope_survey_greylist_deferred_total")
        self.assertEqual(deferred, greylisting, body)
        self.assertEqual(finished + deferred, hosts, body)
        self.assertEqual(sample(body, "relayscope_survey_local_failures_total"), 0, body)
        by_step = sum(float(v) for v in re.findall(
            r'(?m)^relayscope_survey_outcomes_total\{outcome="[A-Z]+"\} (\S+)$', body))
        self.assertEqual(by_step, finished, body)

        self.assertEqual(p.wait(120), 0, p.output())
        rows = self.assertEveryHostOnceAsTheTruthSays()
        self.assertEqual(len(rows), hosts)
        with open(p.stdout_path) as f:
            out = f.read()
        self.assertIn("greylisting: %d hosts" % greylisting, out)
        with open(p.stderr_path) as f:
            self.assertIn("probing in 3 processes", f.read())
        self.assertRegex(out, r"probing %d hosts" % hosts)

    def test_ctrl_c_stops_every_process_and_resume_finishes(self):
        # Slow greetings and few slots: the run lasts long enough to stop.
        self.start(domains=40, greeting_ms=500, greylist=False)
        p = process.start(self, [relayscope.binary()] + [str(a) for a in self.args(
            "--concurrency", 6)], self.dir, "survey")
        ports.wait_until(lambda: len(self.rows()) >= 3 and len(probing_children(p.pid)) == 3,
                         60, "probes stored",
                         interval=0.05, alive=p.alive)
        os.killpg(p.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
        self.assertEqual(p.wait(60), 130, p.output())
        stored = self.rows()
        self.assertLess(len(stored), len(self.truth), "stopped before the end")
        self.assertEqual(len(stored), len(set(stored)))
        with open(p.stdout_path) as f:
            self.assertIn("--resume", f.read())

        r = relayscope.run(self.args("--concurrency", 6, "--resume", 1), timeout=120)
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertRegex(r.stdout, r"probing %d hosts" % (len(self.truth) - len(stored)))
        self.assertEqual(len(self.assertEveryHostOnceAsTheTruthSays()), len(self.truth))

    def test_a_killed_child_is_reported_and_resume_finishes(self):
        self.start(domains=40, greeting_ms=500, greylist=False)
        p = process.start(self, [relayscope.binary()] + [str(a) for a in self.args(
            "--concurrency", 6)], self.dir, "survey")
        children = ports.wait_until(lambda: len(self.rows()) >= 2 and probing_children(p.pid),
                                    60, "probes stored", interval=0.05, alive=p.alive)
        os.kill(children[0], signal.SIGKILL)
        self.assertEqual(p.wait(60), 1, p.output())
        with open(p.stderr_path) as f:
            err = f.read()
        self.assertRegex(err, r"probing process \d \(pid %d\) was killed by signal 9" %
                         children[0])
        stored = self.rows()
        self.assertLess(len(stored), len(self.truth))
        r = relayscope.run(self.args("--concurrency", 6, "--resume", 1), timeout=120)
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertEqual(len(self.assertEveryHostOnceAsTheTruthSays()), len(self.truth))


if __name__ == "__main__":
    unittest.main()
