# Issue 13: a run prepared once in a real PostgreSQL and finished by three
# `survey --join` worker processes, each from its own 127.x source address,
# over a lab of a few thousand hosts; one worker is killed with SIGKILL
# halfway. The run completes, every sampled host has exactly one probe, the
# outcomes are the lab's truth, and the report is the one a single-process
# SQLite run of the same lab and seed gives. Then the database goes away for
# a few seconds mid-run (pg_ctl stop, start): nothing lost, nothing doubled.
# And `db copy` both ways keeps the report. And the collector, writing into
# the same PostgreSQL while the workers probe, gets delivered and bounced
# right against the lab's fates and its ledger.
import json
import os
import random
import re
import signal
import time
import unittest

from peers import ports, process, relayscope, workdir
from peers.lab import start_lab, write_profile
from peers.postgres import start_cluster

HOSTS = 2400
TIMEOUT = 5


class DistributedSurveyTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)
        profile = write_profile(
            self.dir, "distributed",
            {"TO": {"relay_denied": 5, "greylist": 1}, "OK": {"relay": 2},
             "CONNECT": {"refused": 1, "greeting_554": 1}, "MAIL": {"mail_rejected": 1},
             "DATA": {"data_rejected": 1}}, domains=HOSTS)
        self.lab = start_lab(self, self.dir, profile=profile)
        self.pg = start_cluster(self, self.dir)

    def prepare(self, db, extra=()):
        r = relayscope.survey(self.lab.names, self.lab.dns, db, self.lab.port, timeout=TIMEOUT,
                              concurrency=50, domains=False,
                              extra=["--quiet", "--seed", "7", "--label", "shared"] + list(extra))
        self.assertEqual(r.returncode, 0, r.describe())
        return r

    def worker(self, db, run, name, source, extra=()):
        argv = [relayscope.binary(), "survey", "--db", db, "--join", run, "--concurrency", "20",
                "--rate", "150", "--source", source, "--helo", "%s.relayscope.test" % name,
                "--lease", "5", "--quiet"] + list(extra)
        p = process.Process(argv, self.dir, name)
        self.addCleanup(p.stop)
        return p

    def probes(self, db):
        return int(self.pg.psql(db, "SELECT count(*) FROM probes"))

    def wait_probes(self, db, at_least, procs):
        ports.wait_until(lambda: self.probes(db) >= at_least, 180,
                         "%d probes stored" % at_least, interval=0.05,
                         alive=lambda: any(p.alive() for p in procs))

    def assertOneProbePerHostAsTheTruthSays(self, db, run):
        truth = self.lab.hosts()
        rows = relayscope.hosts_csv(db, run)
        ips = [r["ip"] for r in rows]
        self.assertEqual(len(ips), len(set(ips)), "a host probed twice")
        self.assertEqual(sorted(ips), sorted(truth), "every host probed")
        wrong = [(r["ip"], truth[r["ip"]]["behaviour"], r["outcome"]) for r in rows
                 if r["outcome"] != truth[r["ip"]]["expected_outcome"]]
        self.assertEqual(wrong, [], "outcomes against the lab's truth")
        return rows

    def report_text(self, db, run):
        r = relayscope.report(db, "--runs", run)
        self.assertEqual(r.returncode, 0, r.describe())
        return r.stdout

    def comparable(self, text):
        # The run's id and its start time differ between the two databases.
        text = re.sub(r"\d{4}-\d\d-\d\dT[0-9:.]+Z", "TIME", text)
        return re.sub(r"\b[Rr]un \d+", "run N", text)

    def test_three_workers_one_killed_match_a_single_sqlite_run(self):
        db = self.pg.create_database("shared")
        prep = self.prepare(db, ["--prepare-only"])
        run = prep.stdout.strip().splitlines()[-1]
        self.assertRegex(run, r"^\d+$", "the run's id alone on the last line")
        self.assertEqual(self.probes(db), 0, "--prepare-only probes nothing")

        workers = [self.worker(db, run, "w%d" % i, "127.0.0.%d" % (i + 2)) for i in range(3)]
        self.wait_probes(db, HOSTS // 2, workers)
        workers[0].popen.send_signal(signal.SIGKILL)
        self.assertEqual(workers[0].wait(30), -signal.SIGKILL)
        for w in workers[1:]:
            self.assertEqual(w.wait(240), 0, w.output())
        self.assertOneProbePerHostAsTheTruthSays(db, run)
        # Each worker connected from its own address, and the killed one's
        # hosts were finished by the others.
        sources = self.pg.psql(db, "SELECT count(DISTINCT lease_owner) FROM hosts")
        self.assertGreaterEqual(int(sources), 2)
        status = self.pg.psql(db, "SELECT status FROM runs WHERE id = %s" % run)
        self.assertEqual(status, "done")

        single = os.path.join(self.dir, "single.db")
        self.prepare(single)
        self.assertEqual(self.comparable(self.report_text(db, run)),
                         self.comparable(self.report_text(single, "1")))

        # db copy: PostgreSQL -> SQLite and SQLite -> PostgreSQL keep the report.
        copied = os.path.join(self.dir, "copied.db")
        c = relayscope.run(["db", "copy", "--from", db, "--to", copied, "--runs", run])
        self.assertEqual(c.returncode, 0, c.describe())
        self.assertIn("run %s -> run 1" % run, c.stdout)
        self.assertEqual(self.report_text(copied, "1"), self.report_text(db, run))
        back = self.pg.create_database("back")
        c = relayscope.run(["db", "copy", "--from", single, "--to", back])
        self.assertEqual(c.returncode, 0, c.describe())
        self.assertEqual(self.report_text(back, "1"), self.report_text(single, "1"))
        self.assertEqual(relayscope.hosts_csv(back, "1"), relayscope.hosts_csv(single, "1"))

    def test_database_away_for_seconds_loses_and_doubles_nothing(self):
        db = self.pg.create_database("away")
        run = self.prepare(db, ["--prepare-only"]).stdout.strip().splitlines()[-1]
        workers = [self.worker(db, run, "a%d" % i, "127.0.0.%d" % (i + 5),
                               extra=["--lease", "30"]) for i in range(2)]
        self.wait_probes(db, HOSTS // 3, workers)
        self.pg.stop(mode="fast")
        away_from = time.monotonic()
        # The scenario itself: the database stays away a few seconds while
        # the workers probe on.
        time.sleep(4)
        self.pg.start()
        self.assertGreaterEqual(time.monotonic() - away_from, 4)
        for w in workers:
            self.assertEqual(w.wait(240), 0, w.output())
        self.assertOneProbePerHostAsTheTruthSays(db, run)
        self.assertEqual(self.probes(db), HOSTS)
        logs = ""
        for w in workers:
            with open(w.stderr_path) as f:
                logs += f.read()
        self.assertIn("database connection lost", logs)

    def test_collector_into_postgresql_while_workers_probe(self):
        # A lab of its own whose open relays deliver to, and whose bouncers
        # return their DSN to, the collector: the MX of the survey's domain,
        # on the lab's port, writing into the run's PostgreSQL database while
        # three --join workers probe.
        db = self.pg.create_database("collected")
        domain = "collector.test"
        # The third octet 254 is beyond any lab's hosts (they count up from .0.1).
        collector_ip = "127.%d.254.%d" % (random.randint(16, 250), random.randint(1, 254))
        profile = write_profile(self.dir, "delivering",
                                {"OK": {"relay": 2, "bounce": 1, "accept_drop": 1},
                                 "TO": {"relay_denied": 2}}, domains=240)
        lab = start_lab(self, self.dir, profile=profile, name="deliv",
                        extra=["--zone-extra", "%s MX %s" % (domain, collector_ip)])
        collector = process.start(
            self, [relayscope.binary(), "collect", "--listen", "%s:%d" % (collector_ip, lab.port),
                   "--domain", domain, "--db", db, "--spool", os.path.join(self.dir, "collected")],
            self.dir, "collect")
        ports.wait_for_port(collector_ip, lab.port, 15, alive=collector.alive)

        r = relayscope.survey(lab.names, lab.dns, db, lab.port, timeout=TIMEOUT, concurrency=50,
                              domains=False,
                              extra=["--quiet", "--seed", "7", "--prepare-only",
                                     "--mail-from", "probe@" + domain,
                                     "--rcpt-to", "relay-test@" + domain])
        self.assertEqual(r.returncode, 0, r.describe())
        run = r.stdout.strip().splitlines()[-1]
        workers = [self.worker(db, run, "c%d" % i, "127.0.0.%d" % (i + 8)) for i in range(3)]
        for w in workers:
            self.assertEqual(w.wait(240), 0, w.output())

        truth = lab.hosts()
        fated = {f: sum(1 for h in truth.values() if h["fate"] == f)
                 for f in ("delivered", "bounced", "dropped")}
        for f, n in fated.items():
            self.assertGreater(n, 0, "the lab has %s hosts" % f)

        # Relays and bouncers pass the message on after their 250: poll the
        # report (bounded) until its counts reach the lab's fates.
        def counted():
            r = relayscope.report(db, "--runs", run, "--format", "json")
            self.assertEqual(r.returncode, 0, r.describe())
            doc = json.loads(r.stdout)
            got = (doc["runs"][0]["delivered"], doc["runs"][0]["bounced"])
            return doc if got == (fated["delivered"], fated["bounced"]) else None

        try:
            doc = ports.wait_until(counted, 60, "%(delivered)d deliveries and %(bounced)d bounces"
                                   % fated, interval=0.2, alive=collector.alive)
        except Exception as e:
            self.fail("%s\n%s\n%s" % (e, lab.output(), collector.output()))
        self.assertEqual(doc["unmatched_arrivals"], 0, doc)
        # The probes came from more than one worker.
        owners = self.pg.psql(db, "SELECT count(DISTINCT lease_owner) FROM hosts")
        self.assertGreaterEqual(int(owners), 2)
        # Host by host, in the store: the right hosts, none twice.
        rows = relayscope.hosts_csv(db, run)
        self.assertEqual(sorted(x["ip"] for x in rows), sorted(truth), "one probe per host")
        wrong = [(x["ip"], truth[x["ip"]]["fate"], x["delivered"], x["bounced"]) for x in rows
                 if (x["delivered"], x["bounced"]) != {"delivered": ("1", "0"),
                                                       "bounced": ("0", "1")}.get(
                                                           truth[x["ip"]]["fate"], ("0", "0"))]
        self.assertEqual(wrong, [], "delivered/bounced against the lab's fates")

        # The collector's own account, and the lab's ledger once it has
        # stopped (it writes its truth then): one message or DSN per host.
        collector.stop()
        with open(collector.stdout_path) as f:
            self.assertIn("%d deliveries, %d bounces, 0 delay warnings, 0 unmatched"
                          % (fated["delivered"], fated["bounced"]), f.read())
        self.assertEqual(lab.stop(), 0, lab.output())
        totals = lab.truth()["totals"]
        self.assertEqual((totals["hosts_delivered"], totals["hosts_bounced"],
                          totals["hosts_dropped"]),
                         (fated["delivered"], fated["bounced"], fated["dropped"]), totals)
        for h in lab.truth()["hosts"]:
            if h["fate"] in ("delivered", "bounced"):
                self.assertEqual(h.get("events", {}).get(h["fate"]), 1, h)


if __name__ == "__main__":
    unittest.main()
