# relayscope survey options seen from the probed hosts: --no-data sends no
# message, the default EHLO name is ours (never empty, never the target's),
# and a bare IP in a --domains targets file is probed directly. Also: bad
# --dns/--scope/--exclude are usage errors that leave no run; Ctrl-C lets
# probes in flight finish and --resume probes each host once; a run stopped
# while resolving is prepared again on resume; --mx-fallback never opens two
# connections to one address at once (also with --processes 2).
import os
import re
import signal
import socket
import threading
import unittest

from peers import fake_smtp, ports, process, relayscope
from peers.survey_case import SurveyCase


class DnsGate:
    """A UDP DNS front on 127.0.0.1: swallows every query (so that resolving
    stalls) until forward_to() is called, then relays queries to a real
    server. `queried` is set when the first query arrives."""

    def __init__(self, testcase):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.server = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.queried = threading.Event()
        self.upstream = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        testcase.addCleanup(self.close)

    def forward_to(self, addr, port):
        self.upstream = (addr, port)

    def _serve(self):
        while not self.done.is_set():
            try:
                query, client = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queried.set()
            if self.upstream is None:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
                up.settimeout(2)
                up.sendto(query, self.upstream)
                try:
                    answer, _ = up.recvfrom(65535)
                except socket.timeout:
                    continue
            self.sock.sendto(answer, client)

    def close(self):
        self.done.set()
        self.thread.join(5)
        self.sock.close()


class OptionsTest(SurveyCase):
    timeout = 5

    def test_no_data_stops_after_rcpt(self):
        ok, grey = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(ok, "ok"), (grey, "rcpt_450")])
        self.start_dns({"open.test": ok, "grey.test": grey})
        self.survey(["open.test", "grey.test"], fake.port, extra=["--no-data"])
        rows = self.host_rows()
        self.assertOutcome(rows["grey.test"], "TO", 450)
        self.assertNotIn(rows["open.test"]["outcome"], ("CONNECT", "EHLO", "MAIL", "TO", "DATA"),
                         "the open host accepted RCPT TO: %r" % rows["open.test"])
        log = fake.by_addr()
        self.assertWellMannered(fake)
        for addr in (ok, grey):
            conn = log[addr][0]
            verbs = [c.split(" ", 1)[0].split(":", 1)[0].upper() for c in conn["commands"]]
            with self.subTest(addr=addr, verbs=verbs):
                self.assertNotIn("DATA", verbs)
                self.assertIsNone(conn["data"])
                self.assertIn("RCPT", verbs)
                after = verbs[verbs.index("RCPT") + 1 :]
                self.assertTrue(set(after) <= {"RSET", "QUIT"}, after)
                if addr == ok:
                    self.assertEqual(after, ["RSET", "QUIT"])

    def test_default_helo_is_ours(self):
        addr = ports.random_loopback()
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(addr, "ok")])
        self.start_dns({"plain.test": addr})
        self.survey(["plain.test"], fake.port, helo=None)
        self.assertOutcome(self.host_rows()["plain.test"], "OK")
        conn = fake.connections()[0]
        helo = (conn["helo"] or "").strip()
        self.assertTrue(helo, "empty EHLO name: %r" % conn["commands"][:1])
        for theirs in ("plain.test", "mx.plain.test", "fake.test", addr, "[%s]" % addr):
            self.assertNotEqual(helo.lower(), theirs, "EHLO names the target")

    def test_bare_ip_is_probed_without_dns(self):
        ip_host, named = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(ip_host, "relay_denied"), (named, "ok")])
        # The zone doesn't know the bare IP: it must not need to.
        self.start_dns({"named.test": named})
        self.survey([ip_host, "named.test"], fake.port)
        rows = {r["ip"]: r for r in self.host_rows().values()}
        self.assertEqual(set(rows), {ip_host, named})
        self.assertOutcome(rows[ip_host], "TO", 554)
        self.assertOutcome(rows[named], "OK")
        self.assertWellMannered(fake)

    def test_out_of_scope_hosts_are_never_touched(self):
        inside, outside = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(inside, "ok"), (outside, "ok")])
        self.start_dns({"inside.test": inside, "outside.test": outside})
        self.survey(["inside.test", "outside.test"], fake.port, scope="%s/32" % inside,
                    extra=["--scope", "%s/32" % self.unbound.addr])
        log = fake.by_addr()
        self.assertEqual(list(log), [inside], "connected outside --scope")

    def test_excluded_hosts_are_never_touched(self):
        kept, excluded = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(kept, "ok"), (excluded, "ok")])
        self.start_dns({"kept.test": kept, "excluded.test": excluded})
        exclude = "%s/exclude.txt" % self.dir
        with open(exclude, "w") as f:
            f.write("# never probe this one\n%s/32\n" % excluded)
        self.survey(["kept.test", "excluded.test"], fake.port, extra=["--exclude", exclude])
        log = fake.by_addr()
        self.assertEqual(list(log), [kept], "connected to an --exclude'd address")

    def test_mx_fallback_tries_the_next_mx_on_connect_failure(self):
        dead, alive = ports.distinct_loopbacks(2)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(alive, "ok")])
        self.start_dns({}, extra_zone={
            "twomx.test": {"mx": [(10, "mx1.twomx.test"), (20, "mx2.twomx.test")]},
            "mx1.twomx.test": [dead],  # nothing listens there: refused
            "mx2.twomx.test": [alive],
        })
        self.survey(["twomx.test"], fake.port, db="%s/without.db" % self.dir)
        self.assertOutcome(self.host_rows()["twomx.test"], "CONNECT", "", ("refus",))
        self.assertEqual(fake.connections(), [], "tried the higher MX without --mx-fallback")
        self.survey(["twomx.test"], fake.port, db="%s/with.db" % self.dir, extra=["--mx-fallback"])
        self.assertOutcome(self.host_rows()["twomx.test"], "OK")
        self.assertEqual(len(fake.connections()), 1)

    def test_sample_is_seeded_and_reproducible(self):
        addrs = ports.distinct_loopbacks(20)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(a, "relay_denied") for a in addrs])
        domains = {"s%d.test" % i: a for i, a in enumerate(addrs)}
        self.start_dns(domains)
        picked = []
        for n in range(2):
            self.survey(sorted(domains), fake.port, db="%s/sample%d.db" % (self.dir, n),
                        extra=["--sample", "5", "--seed", "7"])
            picked.append(sorted(self.host_rows()))
        self.assertEqual(len(picked[0]), 5)
        self.assertEqual(picked[0], picked[1], "same seed, different sample")
        self.assertEqual(sorted(c["addr"] for c in fake.connections()),
                         sorted(domains[d] for d in picked[0] + picked[1]))

    def test_rate_limits_new_connections(self):
        n, rate = 10, 5
        addrs = ports.distinct_loopbacks(n)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(a, "relay_denied") for a in addrs])
        self.start_dns({"r%d.test" % i: a for i, a in enumerate(addrs)})
        self.survey(["r%d.test" % i for i in range(n)], fake.port, extra=["--rate", str(rate)])
        opened = sorted(c["opened"] for c in fake.connections())
        self.assertEqual(len(opened), n)
        # Even if the first second's worth may go at once, the rest must wait.
        span = opened[-1] - opened[0]
        self.assertGreaterEqual(span, (n - rate) / rate - 0.1, "connections opened over %.2f s" % span)

    # ---- helpers for the tests below ----------------------------------------
    def unused_dns(self):
        """A HOST:PORT where nothing answers; for surveys that must not resolve."""
        return "127.0.0.1:%d" % ports.free_port("127.0.0.1", socket.SOCK_DGRAM)

    def start_survey(self, targets, dns, port, name, concurrency=10):
        """A survey as a background process (to be signalled); returns it."""
        path = relayscope.write_targets(self.dir, targets, name + ".txt")
        argv = [relayscope.binary(), "survey", "--targets", path, "--dns", dns, "--db", self.db,
                "--port", port, "--timeout", self.timeout, "--concurrency", concurrency,
                "--scope", "127.0.0.0/8", "--domains", "--quiet", "--greylist-retry", "0"]
        return process.start(self, argv, self.dir, name)

    def finish_interrupted(self, proc):
        """Waits for a survey stopped by SIGINT; returns the run id it names."""
        code = proc.wait(timeout=60)
        with open(proc.stdout_path) as f:
            out = f.read()
        self.assertEqual(code, 130, "an interrupted survey exits 130\n" + proc.output())
        m = re.search(r"--resume (\d+)", out)
        self.assertTrue(m, "no resume hint after an interrupt\n" + proc.output())
        return m.group(1)

    def resume(self, run_id):
        r = relayscope.run(["survey", "--db", self.db, "--resume", run_id, "--quiet"], timeout=120)
        self.assertEqual(r.returncode, 0, "resume\n" + r.describe())
        return r

    # ---- usage errors -------------------------------------------------------
    def test_bad_dns_scope_exclude_or_helo_is_a_usage_error_and_creates_no_run(self):
        addr = ports.random_loopback()
        bad_exclude = "%s/bad-exclude.txt" % self.dir
        with open(bad_exclude, "w") as f:
            f.write("127.0.0.0/8\nnot-a-network\n")
        targets = relayscope.write_targets(self.dir, [addr])
        cases = {
            "dns": (dict(dns="nothost"), "--dns"),
            "scope": (dict(scope="127.0.0.300/8"), "--scope"),
            "exclude": (dict(extra=["--exclude", bad_exclude]), "--exclude"),
            "helo-empty": (dict(extra=["--helo", ""]), "--helo"),
            "helo-not-a-host": (dict(extra=["--helo", "two words"]), "--helo"),
            "exclude-neither-file-nor-cidr": (dict(extra=["--exclude", "no-such-file"]),
                                              "--exclude"),
            "contact-without-address": (dict(extra=["--contact", "a survey, no address"]),
                                        "--contact"),
            # A scope beyond the special-purpose ranges is the real Internet:
            # the survey must name itself (the helper gives --helo only).
            "identity": (dict(scope="198.41.0.0/24"), "--mail-from and --rcpt-to are required"),
        }
        for name, (kw, option) in cases.items():
            with self.subTest(option=option):
                db = "%s/usage-%s.db" % (self.dir, name)
                kw.setdefault("dns", self.unused_dns())
                dns = kw.pop("dns")
                r = relayscope.survey(targets, dns, db, 2525, timeout=1, **kw)
                self.assertEqual(r.returncode, 2, r.describe())
                self.assertIn(option, r.stderr, r.describe())
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.describe())
                self.assertFalse(os.path.exists(db), "a database (with a run) was created")

    # ---- Ctrl-C and --resume ------------------------------------------------
    def test_ctrl_c_lets_probes_in_flight_finish_and_resume_probes_the_rest(self):
        self.timeout = 3  # each stalled probe ends after one greeting wait
        addrs = ports.distinct_loopbacks(6)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(a, "no_greeting") for a in addrs])
        proc = self.start_survey(addrs, self.unused_dns(), fake.port, "stopped", concurrency=2)
        # Two probes are in flight once the hosts have seen two connections.
        ports.wait_until(lambda: len([e for e in fake.events() if e["event"] == "open"]) >= 2,
                         30, "the first probes to connect", alive=proc.alive)
        os.kill(proc.pid, signal.SIGINT)
        run_id = self.finish_interrupted(proc)
        first = fake.by_addr()
        self.assertEqual(len(first), 2, "probes started after the interrupt: %r" % list(first))
        recorded = {r["ip"]: r for r in relayscope.hosts_csv(self.db)}
        self.assertEqual(set(recorded), set(first), "probes in flight were not recorded")

        self.resume(run_id)
        log = fake.by_addr()
        for addr in addrs:
            self.assertEqual(len(log.get(addr, [])), 1, "%s connected to %d times" % (
                addr, len(log.get(addr, []))))
        rows = relayscope.by_ip(relayscope.hosts_csv(self.db))
        self.assertEqual(set(rows), set(addrs))
        for addr in addrs:
            self.assertEqual(len(rows[addr]), 1, rows[addr])
            self.assertOutcome(rows[addr][0], "CONNECT", "", ("greeting",))

    def test_resume_after_a_stop_while_resolving_prepares_the_run_again(self):
        addr = ports.random_loopback()
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(addr, "ok")])
        self.start_dns({"late.test": addr})
        gate = DnsGate(self)
        proc = self.start_survey(["late.test"], gate.server, fake.port, "resolving")
        self.assertTrue(gate.queried.wait(30), "no DNS query\n" + proc.output())
        os.kill(proc.pid, signal.SIGINT)
        run_id = self.finish_interrupted(proc)
        self.assertEqual(fake.connections(), [])

        gate.forward_to(self.unbound.addr, self.unbound.port)
        self.resume(run_id)
        rows = self.host_rows()
        self.assertEqual(list(rows), ["late.test"], "resume did not resolve and probe the run")
        self.assertOutcome(rows["late.test"], "OK")
        self.assertEqual(len(fake.connections()), 1)
        again = relayscope.run(["survey", "--db", self.db, "--resume", run_id], timeout=60)
        self.assertNotEqual(again.returncode, 0, "a finished run resumed again\n" + again.describe())

    # ---- one connection per address ----------------------------------------
    def test_mx_fallback_never_opens_two_connections_to_one_address(self):
        self.check_one_connection_per_address([])

    def test_mx_fallback_one_connection_per_address_across_processes(self):
        # Two probing children, each asking for 3 hosts at a time: a<i> and
        # b<i> would land on different children but for the parent's
        # hand-out, which keeps hosts sharing an address on one child.
        self.check_one_connection_per_address(["--processes", "2"])

    def check_one_connection_per_address(self, extra):
        # Pairs: a<i>.test's first MX refuses and its second is b<i>.test's
        # only MX, which answers slowly; probed at once, a<i> must not fall
        # back to the address b<i>'s probe is connected to.
        pairs = 6
        addrs = ports.distinct_loopbacks(2 * pairs)
        dead, shared = addrs[:pairs], addrs[pairs:]
        fake = fake_smtp.start_fake_smtp(
            self, self.dir, [(a, "ok", {"delays": {"GREETING": 1.0}}) for a in shared])
        zone = {}
        for i in range(pairs):
            zone["a%d.test" % i] = {"mx": [(10, "mx1.a%d.test" % i), (20, "mx.b%d.test" % i)]}
            zone["mx1.a%d.test" % i] = [dead[i]]
            zone["b%d.test" % i] = {"mx": [(10, "mx.b%d.test" % i)]}
            zone["mx.b%d.test" % i] = [shared[i]]
        self.start_dns({}, extra_zone=zone)
        domains = ["a%d.test" % i for i in range(pairs)] + ["b%d.test" % i for i in range(pairs)]
        self.survey(domains, fake.port, extra=["--mx-fallback"] + extra, concurrency=2 * pairs)
        for addr, conns in fake.by_addr().items():
            spans = sorted((c["opened"], c["ended"]) for c in conns)
            for before, after in zip(spans, spans[1:]):
                # Some slack for the order in which the fake logs events.
                self.assertGreaterEqual(after[0], before[1] - 0.2,
                                        "two connections at once to %s: %r" % (addr, spans))
        rows = self.host_rows()
        for i in range(pairs):
            self.assertOutcome(rows["b%d.test" % i], "OK")


if __name__ == "__main__":
    unittest.main()
