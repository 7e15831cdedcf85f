# relayscope lab, black box (issue 3, "Tests"): its DNS answered by real
# resolvers (dig, and unbound forwarding .test to it) as its truth file says;
# every behaviour classified by `relayscope survey` as the truth file says;
# the modern profile's trick-only relays found by --variants all with the
# trick named; the hostile profile surveyed without a crash, a hang or
# unbounded memory; and a relaying host's message arriving at the MX of the
# recipient's domain (`relayscope collect`), tied to its probe.
import os
import signal
import time
import types
import unittest

from peers import dns, ports, process, relayscope, workdir
from peers.lab import start_lab, write_profile

# Every behaviour of the lab under the outcome the survey should give for it
# (profile data: the lab refuses a behaviour placed under another outcome).
ALL_BEHAVIOURS = {
    "CONNECT": ["refused", "no_greeting", "greeting_554", "garbage_greeting", "endless_line",
                "reset_at_connect", "slow_bytes", "tarpit"],
    "EHLO": ["garbage_reply", "thousand_lines"],
    "MAIL": ["mail_rejected", "reset_mid"],
    "TO": ["helo_only", "relay_denied", "greylist", "slow_greeting", "starttls",
           "trick_percent_hack", "trick_bang_path", "trick_quoted_local", "trick_source_route",
           "trick_address_literal", "trick_null_sender", "trick_spoofed_local_sender",
           "trick_upper_case_domain", "trick_trailing_dot_domain", "trick_unqualified_sender",
           "trick_sender_localhost", "trick_sender_equals_recipient", "trick_trailing_at",
           "trick_double_at", "trick_sender_at_literal", "trick_after_failed_auth"],
    "DATA": ["data_rejected", "message_rejected", "message_tempfail"],
    "OK": ["relay", "accept_drop", "bounce"],
    "QUIT": ["quit_error"],
}
FAILURES = ("nxdomain", "nodata", "servfail", "timeout", "null_mx", "no_address")
RESOLUTIONS = ("mx", "a_only", "cname", "multi_mx", "equal_pref")
SURVEY_TIMEOUT = 5  # the survey's --timeout: slow_greeting (3 s) fits, slow_bytes (~20 s) not
HOSTILE_WALL = 240  # seconds the hostile survey may take in all (ASan build included)
HOSTILE_RSS_MB = 400  # its peak resident memory at most (ASan's shadow memory included)
HOSTILE_EXTRA_MB = 48  # and at most this much above a survey of as many tame hosts


def fq(name):
    return name.rstrip(".") + "."


class LabTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)

    def survey(self, lab, db, extra=(), wall_timeout=300):
        r = relayscope.survey(lab.names, lab.dns, db, lab.port, timeout=SURVEY_TIMEOUT,
                              concurrency=100, domains=False, extra=["--quiet"] + list(extra),
                              wall_timeout=wall_timeout)
        self.assertEqual(r.returncode, 0, r.describe() + "\n" + lab.output())
        return r

    def assertClassifiedAsTheTruthSays(self, lab, db):
        """Every lab host probed once, each with its behaviour's outcome."""
        truth = lab.hosts()
        rows = relayscope.hosts_csv(db)
        self.assertEqual(sorted(r["ip"] for r in rows), sorted(truth), "hosts probed")
        wrong = [(r["ip"], truth[r["ip"]]["behaviour"], truth[r["ip"]]["expected_outcome"],
                  r["outcome"], r["reason"])
                 for r in rows if r["outcome"] != truth[r["ip"]]["expected_outcome"]]
        self.assertEqual(wrong, [], "hosts classified against their behaviour")
        return rows, truth


class LabDnsTest(LabTestCase):
    """The lab's zone, asked through dig (UDP and TCP) and through unbound."""

    def start(self):
        profile = write_profile(
            self.dir, "dns-cases", {"TO": {"relay_denied": 1}}, domains=25,
            unresolved={f: 1 for f in FAILURES}, resolution={r: 1 for r in RESOLUTIONS})
        lab = start_lab(self, self.dir, profile=profile)
        truth = lab.truth()
        by_resolution = {}
        for h in truth["hosts"]:
            by_resolution.setdefault(h["resolution"], []).append(h)
        self.assertEqual(sorted(by_resolution), sorted(RESOLUTIONS))
        failing = {u["status"]: u["domain"] for u in truth["unresolved"]}
        self.assertEqual(sorted(failing), sorted(FAILURES))
        return lab, by_resolution, failing

    def check_host(self, ask, h):
        """The host's domain leads, as a mail sender would follow it, to its IP."""
        status, mx = ask(h["domain"], "MX")
        self.assertEqual(status, "NOERROR", h)
        mxs = sorted((int(a[4].split()[0]), a[4].split()[1]) for a in mx if a[3] == "MX")
        if h["resolution"] == "a_only":
            self.assertEqual(mxs, [], h)  # no MX: the domain's own A is its host (RFC 5321 5.1)
            self.assertEqual(h["mx"], h["domain"])
        else:
            self.assertTrue(mxs, h)
            best = [name for pref, name in mxs if pref == mxs[0][0]]
            self.assertIn(fq(h["mx"]), best, h)
            if h["resolution"] == "cname":
                self.assertEqual([a[3] for a in mx][0], "CNAME", mx)
            if h["resolution"] == "equal_pref":
                self.assertEqual(len(best), 2, mxs)
            if h["resolution"] == "multi_mx":
                self.assertEqual(len(mxs), 2, mxs)
                self.assertGreater(mxs[1][0], mxs[0][0])
                status, backup = ask(mxs[1][1], "A")
                self.assertEqual([a[4] for a in backup if a[3] == "A"], [h["backup_ip"]], h)
        status, a = ask(h["mx"], "A")
        self.assertEqual(status, "NOERROR", h)
        self.assertEqual([x[4] for x in a if x[3] == "A"], [h["ip"]], h)

    def check_failures(self, ask, failing, timeout_status):
        for rtype in ("MX", "A"):
            self.assertEqual(ask(failing["nxdomain"], rtype), ("NXDOMAIN", []))
            self.assertEqual(ask(failing["nodata"], rtype), ("NOERROR", []))
            self.assertEqual(ask(failing["servfail"], rtype)[0], "SERVFAIL")
        status, mx = ask(failing["null_mx"], "MX")
        self.assertEqual((status, [a[4] for a in mx]), ("NOERROR", ["0 ."]))
        status, mx = ask(failing["no_address"], "MX")
        self.assertEqual(status, "NOERROR")
        self.assertEqual(len(mx), 1, mx)
        target = mx[0][4].split()[1]
        status, a = ask(target, "A")
        self.assertEqual([x for x in a if x[3] == "A"], [], "the MX host has no address")
        # Asked last: a resolver may remember a server that did not answer.
        self.assertIn(ask(failing["timeout"], "MX")[0], timeout_status)

    def test_dig_gets_what_the_truth_file_says(self):
        lab, by_resolution, failing = self.start()

        def ask(name, rtype):
            return dns.dig(lab.dns_addr, lab.dns_port, name, rtype, timeout=1)

        for hosts in by_resolution.values():
            for h in hosts:
                self.check_host(ask, h)
        self.check_failures(ask, failing, timeout_status=(None,))
        # The same over TCP; and names outside .test are refused, not resolved.
        h = by_resolution["mx"][0]
        r = process.run([dns.DIG, "@%s" % lab.dns_addr, "-p", str(lab.dns_port), "+tcp",
                         "+tries=1", "+time=2", "+short", h["domain"], "MX"], timeout=10)
        self.assertEqual(r.stdout.split(), ["10", fq(h["mx"])], r.stdout + r.stderr)
        self.assertEqual(ask("example.com", "A")[0], "REFUSED")

    def test_unbound_forwarding_test_to_the_lab_resolves_the_same(self):
        lab, by_resolution, failing = self.start()
        u = self.start_unbound(lab)

        def ask(name, rtype):
            return dns.dig(u.addr, u.port, name, rtype, timeout=8)

        for hosts in by_resolution.values():
            for h in hosts[:3]:
                self.check_host(ask, h)
        # A resolver says SERVFAIL for a server that never answers.
        self.check_failures(ask, failing, timeout_status=("SERVFAIL", None))

    def start_unbound(self, lab):
        """unbound recursing for .test through the lab (a stub zone), nothing else."""
        workdir_u = os.path.join(self.dir, "unbound")
        os.makedirs(workdir_u)
        addr = "127.0.0.1"
        port = dns.free_dns_port(addr)
        # Every address but 127/8 is off limits: no query can leave the host.
        blocked = ["0.0.0.0/2", "64.0.0.0/3", "96.0.0.0/4", "112.0.0.0/5", "120.0.0.0/6",
                   "124.0.0.0/7", "126.0.0.0/8", "128.0.0.0/1", "::/0"]
        conf = "\n".join(
            ["server:", "  interface: %s" % addr, "  port: %d" % port, "  do-ip4: yes",
             "  do-ip6: no", "  do-udp: yes", "  do-tcp: yes", "  access-control: 127.0.0.0/8 allow",
             '  username: ""', '  chroot: ""', '  directory: "%s"' % workdir_u, '  pidfile: ""',
             "  use-syslog: no", '  logfile: ""', "  num-threads: 1",
             '  module-config: "iterator"', "  qname-minimisation: no",
             "  do-not-query-localhost: no", '  local-zone: "." refuse',
             '  local-zone: "test." transparent', "  cache-max-negative-ttl: 0"]
            + ["  do-not-query-address: %s" % b for b in blocked]
            + ["remote-control:", "  control-enable: no",
               "stub-zone:", '  name: "test."', "  stub-addr: %s@%d" % (lab.dns_addr, lab.dns_port)])
        path = os.path.join(workdir_u, "unbound.conf")
        with open(path, "w") as f:
            f.write(conf + "\n")
        check = process.run(["unbound-checkconf", path], timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        proc = process.start(self, [dns.UNBOUND, "-d", "-c", path], workdir_u, "unbound")

        ports.wait_until(lambda: dns.dig(addr, port, "test.", "SOA", timeout=1)[0] is not None,
                         15, "unbound on %s:%d" % (addr, port), interval=0.05, alive=proc.alive)
        return types.SimpleNamespace(addr=addr, port=port)


class LabSurveyTest(LabTestCase):
    def test_every_behaviour_is_classified_as_the_truth_file_says(self):
        outcomes = {o: {b: 1 for b in bs} for o, bs in ALL_BEHAVIOURS.items()}
        n = sum(len(bs) for bs in ALL_BEHAVIOURS.values())
        profile = write_profile(self.dir, "every-behaviour", outcomes, domains=n,
                                delays={"slow_greeting_ms": 3000, "slow_byte_ms": 1000})
        lab = start_lab(self, self.dir, profile=profile)
        counts = lab.truth()["counts"]["behaviours"]
        self.assertEqual(counts, {b: 1 for bs in ALL_BEHAVIOURS.values() for b in bs})
        db = os.path.join(self.dir, "every.db")
        self.survey(lab, db)
        self.assertClassifiedAsTheTruthSays(lab, db)

    def test_modern_variants_all_finds_the_trick_only_relays_and_names_the_trick(self):
        lab = start_lab(self, self.dir, profile="modern", domains=300, seed=7)
        truth = lab.hosts()
        tricks = {h["behaviour"] for h in truth.values() if h.get("relays_for_variants")}
        self.assertEqual(len(tricks), len([b for b in ALL_BEHAVIOURS["TO"] if b.startswith("trick_")]),
                         "the modern profile at 300 hosts has every trick")
        db = os.path.join(self.dir, "modern.db")
        self.survey(lab, db, extra=["--variants", "all"])
        rows, truth = self.assertClassifiedAsTheTruthSays(lab, db)
        for r in rows:
            h = truth[r["ip"]]
            named = set(filter(None, r["relaying_variants"].split(";")))
            if h.get("relays_for_variants"):
                # Refused the plain test (TO), relayed for exactly its tricks.
                self.assertEqual(named, set(h["relays_for_variants"]), (h, r))
            elif h["expected_outcome"] != "OK" and h["behaviour"] != "quit_error":
                self.assertEqual(named, set(), (h, r))
        text = relayscope.report(db).stdout
        self.assertIn("Variants that relayed", text)
        for variant in {v for h in truth.values() for v in h.get("relays_for_variants", [])}:
            self.assertRegex(text, r"(?m)^%s\s+\d+\s+\d+" % variant, text)

    def survey_measured(self, lab, db, name):
        """A survey as a child of ours: (exit status, peak RSS in MB), bounded in time."""
        argv = [relayscope.binary(), "survey", "--targets", lab.names, "--dns", lab.dns, "--db", db,
                "--port", lab.port, "--timeout", SURVEY_TIMEOUT, "--concurrency", 100,
                "--scope", "127.0.0.0/8", "--helo", "probe.relayscope.test", "--quiet",
                "--greylist-retry", "0"]
        # Under ASan, freed memory waits in a quarantine (256 MB by default)
        # that would count as ours: keep it small (other builds ignore this).
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                     "quarantine_size_mb=16"]))
        p = process.start(self, argv, self.dir, name, env=env)
        # wait4 gives this child's own peak RSS (ru_maxrss, kB on Linux).
        deadline = time.monotonic() + HOSTILE_WALL
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(p.pid, signal.SIGKILL)
                self.fail("%s still running after %d s\n%s" % (name, HOSTILE_WALL, p.output()))
            time.sleep(0.1)
        p.popen.returncode = os.waitstatus_to_exitcode(status)
        self.assertEqual(p.popen.returncode, 0, p.output())
        return usage.ru_maxrss / 1024

    def test_hostile_profile_without_crash_hang_or_unbounded_memory(self):
        # The yardstick: as many tame hosts (closed relays), the same survey.
        hostile = start_lab(self, self.dir, profile="hostile", name="hostile")
        tame_profile = write_profile(self.dir, "tame", {"TO": {"relay_denied": 1}},
                                     domains=hostile.host_count)
        tame = start_lab(self, self.dir, profile=tame_profile, name="tame")
        tame_mb = self.survey_measured(tame, os.path.join(self.dir, "tame.db"), "survey-tame")

        db = os.path.join(self.dir, "hostile.db")
        t0 = time.monotonic()
        hostile_mb = self.survey_measured(hostile, db, "survey-hostile")
        seconds = time.monotonic() - t0
        # Every host classified (as its behaviour calls for), the lab still up.
        self.assertClassifiedAsTheTruthSays(hostile, db)
        self.assertTrue(hostile.proc.alive(), hostile.output())
        # Endless lines, thousand-line replies and garbage cost the prober
        # no more than HOSTILE_EXTRA_MB over the tame survey's peak.
        self.assertLess(hostile_mb, tame_mb + HOSTILE_EXTRA_MB,
                        "peak RSS %.1f MB (tame: %.1f MB) after %.1f s" % (hostile_mb, tame_mb,
                                                                         seconds))
        self.assertLess(hostile_mb, HOSTILE_RSS_MB)


class LabLimitsTest(LabTestCase):
    def test_a_lab_whose_listeners_leave_few_sessions_under_the_open_files_limit_says_so(self):
        # 400 listening hosts under a limit of 1,000 descriptors leave 279
        # sessions at once (the lab keeps 320 for itself and its deliveries):
        # a survey of more at once would see greeting timeouts that are the
        # lab's, so the lab warns and names the way out (--shard).
        profile = write_profile(self.dir, "listening", {"TO": {"relay_denied": 1}}, domains=400)
        squeezed = start_lab(self, self.dir, profile=profile, name="squeezed",
                             wrapper=["prlimit", "--nofile=1000:1000"])
        self.assertIn("400 listening, 279 sessions at once", squeezed.ready)
        self.assertIn("warning: only 279 sessions at once fit under the open-files limit (1000) "
                      "beside 400 listening sockets", squeezed.output())
        self.assertIn("more --shard processes", squeezed.output())
        roomy = start_lab(self, self.dir, profile=profile, name="roomy")
        self.assertIn("400 listening", roomy.ready)
        self.assertNotIn("warning", roomy.output())


class LabDeliveryTest(LabTestCase):
    def test_a_relaying_hosts_message_arrives_at_the_recipient_domains_mx(self):
        profile = write_profile(self.dir, "relaying",
                                {"OK": {"relay": 2, "bounce": 1, "accept_drop": 1},
                                 "TO": {"relay_denied": 1}}, domains=5)
        domain = "collector.test"
        collector_ip = ports.random_loopback()
        lab = start_lab(self, self.dir, profile=profile,
                        extra=["--zone-extra", "%s MX %s" % (domain, collector_ip)])
        # The collector is the MX of the survey's domain, on the lab's port
        # (where the lab's relaying hosts deliver).
        db = os.path.join(self.dir, "relaying.db")
        spool = os.path.join(self.dir, "collected")
        collector = process.start(
            self, [relayscope.binary(), "collect", "--listen", "%s:%d" % (collector_ip, lab.port),
                   "--domain", domain, "--db", db, "--spool", spool], self.dir, "collect")
        ports.wait_for_port(collector_ip, lab.port, 15, alive=collector.alive)

        self.survey(lab, db, extra=["--mail-from", "probe@" + domain,
                                    "--rcpt-to", "relay-test@" + domain])
        truth = lab.hosts()

        def arrived():
            rows = relayscope.hosts_csv(db)
            got = sum(int(r["delivered"]) + int(r["bounced"]) for r in rows)
            return rows if got >= 3 else None

        # The lab relays and bounces after its 250: wait (bounded) for both.
        try:
            rows = ports.wait_until(arrived, 60, "2 deliveries and 1 bounce", interval=0.2)
        except Exception as e:
            self.fail("%s\n%s\n%s" % (e, lab.output(), collector.output()))
        for r in rows:
            fate = truth[r["ip"]]["fate"]
            want = {"delivered": ("1", "0"), "bounced": ("0", "1")}.get(fate, ("0", "0"))
            self.assertEqual((r["delivered"], r["bounced"]), want, (truth[r["ip"]], r))

        # What arrived is the relaying host's copy of our message: its token,
        # the host's Received: line, from the host's address.
        messages = {}
        for name in os.listdir(spool):
            if name.endswith(".eml"):
                with open(os.path.join(spool, name), encoding="utf-8", errors="replace") as f:
                    messages[name] = f.read()
        self.assertEqual(len(messages), 3, list(messages))
        for r in rows:
            h = truth[r["ip"]]
            if h["fate"] != "delivered":
                continue
            mine = [m for m in messages.values() if "X-Relayscope-Token: " + r["token"] in m
                    and "Content-Type: multipart/report" not in m]
            self.assertEqual(len(mine), 1, (h, r))
            self.assertIn("by %s (relayscope lab)" % h["mx"], mine[0])
            self.assertIn("X-Relayscope-Client: %s" % h["ip"], mine[0])

        collector.stop()
        with open(collector.stdout_path) as f:
            self.assertIn("2 deliveries, 1 bounces, 0 delay warnings, 0 unmatched", f.read())
        # The lab's own account agrees once it has stopped (it writes its truth then).
        self.assertEqual(lab.stop(), 0, lab.output())
        totals = lab.truth()["totals"]
        self.assertEqual((totals["hosts_delivered"], totals["hosts_bounced"],
                          totals["hosts_dropped"]), (2, 1, 1), totals)


if __name__ == "__main__":
    unittest.main()
