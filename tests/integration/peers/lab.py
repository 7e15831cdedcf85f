# Starts `relayscope lab` for a test: its DNS server and hosts on loopback
# (ports chosen by the lab itself, hosts from a random 127.A.0.1 up), waits
# for its "ready" line and its names and truth files (bounded), and stops it
# by pid with SIGTERM. Limits: one process per Lab, at most ~60,000 hosts.
import json
import os
import random
import re

from . import ports, process, relayscope


def write_profile(workdir, name, outcomes, domains, unresolved=None, resolution=None, delays=None,
                  names=None):
    """Writes a lab profile (TOML) and returns its path.

    outcomes: {OUTCOME: {behaviour: weight}}, shares follow the weights (so
    each behaviour of weight 1 gets the same number of hosts when `domains`
    is a multiple of the total weight)."""
    total = sum(sum(b.values()) for b in outcomes.values())
    unresolved = unresolved or {"nxdomain": 1}
    lines = ['name = "%s"' % name, 'description = "written by a test"', "[funnel]",
             "names = %d" % (names or 3 * (domains + len(unresolved))),
             "unique_domains = %d" % (domains + len(unresolved)),
             "resolved_domains = %d" % domains, "junk_lines = 2", "zipf = 1.0", "[unresolved]"]
    lines += ["%s = %s" % kv for kv in unresolved.items()]
    for outcome, behaviours in outcomes.items():
        lines.append("[outcomes.%s]" % outcome)
        lines.append("share = %r" % (100.0 * sum(behaviours.values()) / total))
        lines += ["%s = %s" % kv for kv in behaviours.items()]
    if resolution:
        lines.append("[resolution]")
        lines += ["%s = %s" % kv for kv in resolution.items()]
    if delays:
        lines.append("[delays]")
        lines += ["%s = %d" % kv for kv in delays.items()]
    path = os.path.join(workdir, name + ".toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


class Lab:
    """A running `relayscope lab`: .dns ("ADDR:PORT"), .dns_addr, .dns_port,
    .port (the hosts' SMTP port), .names (path), .truth() (parsed JSON)."""

    def __init__(self, workdir, profile="modern", domains=None, seed=1, extra=(), name="lab",
                 port=0, dns_addr="127.0.0.1", timeout=None, wrapper=()):
        self.workdir = workdir
        self.names = os.path.join(workdir, name + "-names.txt")
        self.truth_path = os.path.join(workdir, name + "-truth.json")
        # A /16 of our own for the hosts, so that parallel tests do not meet.
        self.net = random.randint(16, 250)
        first = "127.%d.0.1" % self.net
        # wrapper: a command the lab runs under (prlimit, say).
        argv = list(wrapper) + [
            relayscope.binary(), "lab", "--profile", profile, "--seed", seed,
            "--dns", "%s:0" % dns_addr, "--port", port, "--first-address", first,
            "--names-out", self.names, "--truth-out", self.truth_path]
        if domains:
            argv += ["--domains", domains]
        if timeout:
            argv += ["--timeout", timeout]
        argv += list(extra)
        self.proc = process.Process(argv, workdir, name)
        self.ready = None

    def _read_ready(self):
        try:
            with open(self.proc.stdout_path) as f:
                out = f.read()
        except OSError:
            return False
        if "ready;" not in out:
            return False
        m = re.search(r"DNS server: (\S+):(\d+) ", out)
        h = re.search(r"mail hosts: (\d+) on port (\d+)", out)
        if not (m and h and os.path.exists(self.names) and os.path.exists(self.truth_path)):
            return False
        self.dns_addr, self.dns_port = m.group(1), int(m.group(2))
        self.dns = "%s:%d" % (self.dns_addr, self.dns_port)
        self.host_count, self.port = int(h.group(1)), int(h.group(2))
        self.ready = out
        return True

    def wait_ready(self, timeout=60.0):
        try:
            ports.wait_until(self._read_ready, timeout, "relayscope lab ready", interval=0.05,
                             alive=self.proc.alive)
        except Exception as e:
            raise AssertionError("%s\n%s" % (e, self.proc.output())) from None
        return self

    def truth(self):
        with open(self.truth_path) as f:
            return json.load(f)

    def hosts(self):
        """The truth's hosts by IP."""
        return {h["ip"]: h for h in self.truth()["hosts"]}

    def stop(self):
        """SIGTERM by pid; returns the exit status (the lab rewrites its truth file first)."""
        return self.proc.stop(grace=15.0)

    def output(self):
        return self.proc.output()


def start_lab(testcase, workdir, **kw):
    """Starts a Lab, registers its stop with the test, waits until it is ready."""
    lab = Lab(workdir, **kw)
    testcase.addCleanup(lab.stop)
    return lab.wait_ready()
