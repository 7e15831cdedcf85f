# Greylisting (issue 12 item 4), black box against the lab: hosts that answer
# 450 at RCPT TO to an unseen (client, sender, recipient) and accept it after
# the profile's delay (1 s here), surveyed with --greylist-retry 2s:
# - every such host is probed again in the same run with the same sender and
#   recipient and judged by the retry (relayed or refused), and `report
#   --hosts` says greylisted=yes with the first 450 beside it; a host that
#   answers 4xx every time (the `greylist` behaviour) and a silent one are
#   "inconclusive", never "refused"; the text report counts them apart;
# - with --variants all, the retry sends each variant with the first try's
#   sender and recipient, so no variant of a greylisted host keeps the 450;
# - with one probe slot (--concurrency 1) and retries an hour away, every
#   other host is probed and stored while the retries wait, and the progress
#   line on a terminal says how many it waits for; stopped then, the run
#   stores none of the waiting hosts, and --resume probes them again and
#   finishes them.
import os
import pty
import re
import select
import signal
import sqlite3
import subprocess
import time
import unittest

from peers import ports, relayscope, workdir
from peers.lab import start_lab, write_profile

LAB_DELAY_MS = 1000


class SurveyGreylistTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)
        path = write_profile(self.dir, "greylisting",
                             {"TO": {"relay_denied": 2, "greylist": 1}, "OK": {"relay": 2},
                              "CONNECT": {"no_greeting": 1}}, domains=18)
        # Half of the hosts whose test reaches RCPT TO greylist for 1 s.
        with open(path, "a") as f:
            f.write("[timing]\ngreylist_share = 50\ngreylist_delay_ms = %d\n" % LAB_DELAY_MS)
        self.lab = start_lab(self, self.dir, profile=path, seed=5)
        self.truth = self.lab.hosts()
        # Which hosts answer 4xx at RCPT TO on the first try.
        self.first_4xx = {ip for ip, h in self.truth.items()
                          if h["timing"]["greylisted"] or h["behaviour"] == "greylist"}
        greylisting = [h for h in self.truth.values() if h["timing"]["greylisted"]]
        # The seed gives both kinds of greylisting host, and plain ones.
        self.assertTrue({"relay", "relay_denied"} <= {h["behaviour"] for h in greylisting},
                        greylisting)
        self.assertTrue(any(h["behaviour"] == "relay" and not h["timing"]["greylisted"]
                            for h in self.truth.values()))

    def expected(self, h):
        """(outcome, greylisted, verdict) as the truth says after a retry."""
        outcome = h.get("expected_outcome_after_retry", h["expected_outcome"])
        verdict = {"relay": "relayed", "relay_denied": "refused"}.get(h["behaviour"],
                                                                       "inconclusive")
        return outcome, "yes" if h["ip"] in self.first_4xx else "no", verdict

    def assertJudgedAsTheTruthSays(self, db):
        rows = relayscope.hosts_csv(db)
        self.assertEqual(sorted(r["ip"] for r in rows), sorted(self.truth))
        got = {r["ip"]: (r["outcome"], r["greylisted"], r["verdict"]) for r in rows}
        want = {ip: self.expected(h) for ip, h in self.truth.items()}
        self.assertEqual(got, want)
        # The first answer is kept beside the retry's.
        for r in rows:
            if r["greylisted"] == "yes":
                self.assertRegex(r["first_reply"], r"^45\d ", r)
            else:
                self.assertEqual(r["first_reply"], "", r)
        # Both dialogues in the transcript, the same sender and recipient in each.
        for host in relayscope.hosts_json(db):
            if not host["greylisted"]:
                continue
            lines = relayscope.transcript_lines(host)
            rcpts = [l for l in lines if l.startswith("RCPT TO:")]
            self.assertEqual(len(rcpts), 2, lines)
            self.assertEqual(rcpts[0], rcpts[1], lines)
            self.assertTrue(any(l.startswith("greylisted (45") for l in lines), lines)
        return rows

    def test_greylisted_hosts_are_retried_and_judged(self):
        db = os.path.join(self.dir, "grey.db")
        r = relayscope.survey(self.lab.names, self.lab.dns, db, self.lab.port, timeout=2,
                              concurrency=20, domains=False, greylist_retry="2s",
                              extra=["--quiet"])
        self.assertEqual(r.returncode, 0, r.describe() + "\n" + self.lab.output())
        self.assertIn("%d hosts answered 4xx at RCPT TO and were probed again"
                      % len(self.first_4xx), r.stdout)
        rows = self.assertJudgedAsTheTruthSays(db)
        # The text report counts greylisted hosts apart, by the retry's outcome.
        text = relayscope.report(db).stdout
        grey_to = sum(1 for x in rows if x["greylisted"] == "yes" and x["outcome"] == "TO")
        grey_ok = sum(1 for x in rows if x["greylisted"] == "yes" and x["outcome"] == "OK")
        self.assertRegex(text, r"(?m)^greylisted, then TO\s+%d$" % grey_to, text)
        self.assertRegex(text, r"(?m)^greylisted, then OK\s+%d$" % grey_ok, text)
        counts = {v: sum(1 for x in rows if x["verdict"] == v)
                  for v in ("relayed", "refused", "inconclusive")}
        for verdict, n in counts.items():
            self.assertRegex(text, r"(?m)^%s\s+%d\s" % (verdict, n), text)
        # Every format carries the two columns after today's.
        for fmt, marks in (("text", ["Greylisted", "Verdict", "inconclusive"]),
                           ("markdown", ["| Greylisted | Verdict |", "| yes | relayed |"]),
                           ("html", ["<th>Greylisted</th><th>Verdict</th>",
                                     "<td>yes</td><td>refused</td>"])):
            out = relayscope.report(db, "--hosts", "--format", fmt).stdout
            for m in marks:
                self.assertIn(m, out, fmt)
        header = relayscope.report(db, "--hosts", "--format", "csv").stdout.splitlines()[0]
        self.assertTrue(header.startswith("domain,ip,outcome,code,reason,"), header)
        self.assertIn(",token,greylisted,verdict,", header)

    def test_without_retry_a_greylisted_host_is_inconclusive(self):
        db = os.path.join(self.dir, "off.db")
        r = relayscope.survey(self.lab.names, self.lab.dns, db, self.lab.port, timeout=2,
                              concurrency=20, domains=False, greylist_retry="0",
                              extra=["--quiet"])
        self.assertEqual(r.returncode, 0, r.describe())
        for row in relayscope.hosts_csv(db):
            if row["ip"] in self.first_4xx:
                self.assertEqual((row["outcome"], row["greylisted"], row["verdict"]),
                                 ("TO", "no", "inconclusive"), row)

    def test_variants_of_a_greylisted_host_are_judged_by_the_retry(self):
        # Greylisters key on (client, sender, recipient): the retry sends each
        # variant with the first try's addresses, which are past the delay by
        # then. With fresh addresses, every variant would be greylisted anew.
        db = os.path.join(self.dir, "variants.db")
        r = relayscope.survey(self.lab.names, self.lab.dns, db, self.lab.port, timeout=2,
                              concurrency=20, domains=False, greylist_retry="2s",
                              extra=["--quiet", "--variants", "all"])
        self.assertEqual(r.returncode, 0, r.describe() + "\n" + self.lab.output())
        grey = {ip for ip, h in self.truth.items() if h["timing"]["greylisted"]}
        with sqlite3.connect(db) as con:
            rows = con.execute("SELECT p.ip, p.greylisted, v.name, v.outcome, v.code "
                               "FROM variants v JOIN probes p ON p.id = v.probe_id").fetchall()
        judged = {ip for ip, _, _, _, _ in rows}
        self.assertTrue(grey <= judged, (grey, judged))
        for ip, greylisted, name, outcome, code in rows:
            if ip not in grey:
                continue
            self.assertEqual(greylisted, 1, ip)
            # Each variant has the host's own answer (250, 554, 501...), never
            # the greylisting 450, and none is left untried.
            self.assertFalse(400 <= code < 500, (ip, name, outcome, code))
            self.assertNotEqual(outcome, "NOT_TRIED", (ip, name))

    def test_retries_pending_at_a_stop_are_probed_again_on_resume(self):
        db = os.path.join(self.dir, "resume.db")
        argv = [relayscope.binary(), "survey", "--targets", self.lab.names, "--dns", self.lab.dns,
                "--db", db, "--port", str(self.lab.port), "--timeout", "2", "--concurrency", "1",
                "--scope", "127.0.0.0/8", "--helo", "probe.relayscope.test",
                "--greylist-retry", "1h"]
        # A terminal for standard error: the progress line shows there.
        master, slave = pty.openpty()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=slave, start_new_session=True)
        os.close(slave)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        self.addCleanup(os.close, master)
        seen = b""
        want = ("waiting for %d greylist retries" % len(self.first_4xx)).encode()
        deadline = time.monotonic() + 60
        while want not in seen and time.monotonic() < deadline and p.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:  # EIO: the survey closed its terminal (exited)
                    break
        self.assertIn(want, seen, seen.decode(errors="replace"))
        # Everything else gets stored, through the one probe slot, while the
        # retries wait (they do not hold it); none of the waiting hosts is.
        others = set(self.truth) - self.first_4xx

        def stored():
            with sqlite3.connect(db) as con:
                return {ip for (ip,) in con.execute("SELECT ip FROM probes")}

        ports.wait_until(lambda: stored() >= others, 60, "the other hosts stored",
                         alive=lambda: p.poll() is None)
        self.assertEqual(stored(), others)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, out)
        run_id = re.search(rb"--resume (\d+)", out).group(1).decode()
        r = relayscope.run(["survey", "--db", db, "--resume", run_id, "--quiet",
                            "--greylist-retry", "2s"], timeout=120)
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertJudgedAsTheTruthSays(db)


if __name__ == "__main__":
    unittest.main()
