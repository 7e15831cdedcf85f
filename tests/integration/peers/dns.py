# A private unbound on loopback that answers a generated `.test` zone itself.
# It never queries anywhere: names outside the zone are REFUSED, and every
# upstream address is on do-not-query-address, so no packet leaves this host.
# Limits: no DNSSEC, no zone transfers; CNAMEs are answered but not chased.
import os
import shutil
import socket
import subprocess

from . import ports, process

UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
DIG = shutil.which("dig") or "/usr/bin/dig"


def _fqdn(name):
    return name if name.endswith(".") else name + "."


def _quote(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


def zone_lines(zone, ttl=60):
    """unbound local-data lines for a zone spec.

    zone: {name: spec}, names under .test. A spec is a dict with any of
      "mx": [(pref, host), ...]   MX records (host "." gives a null MX)
      "a": [ip, ...]               A records
      "aaaa": [ip6, ...]           AAAA records
      "cname": target              a CNAME (nothing else may be given)
      "txt": [text, ...]           TXT records
      "nodata": True               the name exists but has no MX/A (a TXT)
      "nxdomain": True             the name does not exist (the default for
                                   any name not given, so just a marker)
      "servfail": True             lookups of the name fail with SERVFAIL
    or a list of IPs (shorthand for {"a": [...]}).
    Returns (local_zone_lines, local_data_lines, stub_zone_blocks)."""
    zones, data, stubs = [], [], []
    for name, spec in zone.items():
        if isinstance(spec, (list, tuple)):
            spec = {"a": list(spec)}
        fq = _fqdn(name)
        if spec.get("nxdomain"):
            continue
        if spec.get("servfail"):
            # A transparent hole in the static zone, delegated to an address
            # unbound may not query: it answers SERVFAIL at once.
            zones.append('local-zone: "%s" transparent' % fq)
            stubs.append('stub-zone:\n  name: "%s"\n  stub-addr: 127.0.0.1@1\n' % fq)
            continue
        if "cname" in spec:
            data.append('local-data: "%s %d IN CNAME %s"' % (fq, ttl, _fqdn(spec["cname"])))
            continue
        for pref, host in spec.get("mx", []):
            data.append('local-data: "%s %d IN MX %d %s"' % (fq, ttl, pref, _fqdn(host)))
        for ip in spec.get("a", []):
            data.append('local-data: "%s %d IN A %s"' % (fq, ttl, ip))
        for ip in spec.get("aaaa", []):
            data.append('local-data: "%s %d IN AAAA %s"' % (fq, ttl, ip))
        texts = list(spec.get("txt", []))
        if spec.get("nodata") and not texts:
            texts = ["no mail here"]
        for t in texts:
            data.append("local-data: '%s %d IN TXT \"%s\"'" % (fq, ttl, _quote(t)))
    return zones, data, stubs


def unbound_config(addr, port, workdir, zone, extra_zones=("test.",)):
    zones, data, stubs = zone_lines(zone)
    lines = [
        "server:",
        "  interface: %s" % addr,
        "  port: %d" % port,
        "  do-ip4: yes",
        "  do-ip6: no",
        "  do-udp: yes",
        "  do-tcp: yes",
        "  access-control: 127.0.0.0/8 allow",
        '  username: ""',
        '  chroot: ""',
        '  directory: "%s"' % workdir,
        '  pidfile: ""',
        "  use-syslog: no",
        '  logfile: ""',
        "  verbosity: 1",
        "  num-threads: 1",
        # Iterator only: no validator, so no trust anchor is ever fetched.
        '  module-config: "iterator"',
        # Belt and braces: unbound may send no query to any address at all.
        "  do-not-query-address: 0.0.0.0/0",
        "  do-not-query-address: ::/0",
        "  do-not-query-localhost: yes",
        # Everything outside our zones is refused, so no root priming either.
        '  local-zone: "." refuse',
    ]
    for z in extra_zones:
        lines.append('  local-zone: "%s" static' % _fqdn(z))
    lines += ["  " + z for z in zones]
    lines += ["  " + d for d in data]
    lines.append("remote-control:\n  control-enable: no")
    return "\n".join(lines) + "\n" + "".join(stubs)


def free_dns_port(addr):
    """A port free for both UDP and TCP on addr."""
    for _ in range(50):
        port = ports.free_port(addr, socket.SOCK_DGRAM)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((addr, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free DNS port on %s" % addr)


def dig(addr, port, name, rtype="A", short=False, timeout=2):
    """Asks the given server only (never the system resolver).

    Returns (status, answers): status like "NOERROR"/"NXDOMAIN" (None when no
    reply came), answers as [name, ttl, class, type, data] lists, or just the
    data strings when short=True."""
    argv = [DIG, "@%s" % addr, "-p", str(port), "+tries=1", "+time=%d" % timeout,
            "+noall", "+comments", "+answer", name, rtype]
    r = process.run(argv, timeout=timeout + 5)
    status = None
    answers = []
    for line in r.stdout.splitlines():
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
        elif line.strip() and not line.startswith(";"):
            answers.append(line.split(None, 4))
    if short:
        return status, [a[4] for a in answers if len(a) == 5]
    return status, answers


class Unbound:
    """unbound -d serving `zone` on addr:port. Stop with stop() (by pid)."""

    def __init__(self, workdir, zone, addr="127.0.0.1", port=None, extra_zones=("test.",)):
        self.addr = addr
        self.workdir = os.path.join(workdir, "unbound")
        os.makedirs(self.workdir, exist_ok=True)
        self.port = port or free_dns_port(addr)
        self.conf = os.path.join(self.workdir, "unbound.conf")
        with open(self.conf, "w") as f:
            f.write(unbound_config(addr, self.port, self.workdir, zone, extra_zones))
        check = process.run(["unbound-checkconf", self.conf], timeout=30)
        if check.returncode != 0:
            raise RuntimeError("bad unbound config %s:\n%s%s" % (self.conf, check.stdout, check.stderr))
        self.proc = process.Process([UNBOUND, "-d", "-c", self.conf], self.workdir, "unbound")

    @property
    def server(self):
        """The HOST:PORT string for --dns."""
        return "%s:%d" % (self.addr, self.port)

    def answers(self, name="probe-ready.test", rtype="SOA"):
        """True when the server answers (any status) a query now."""
        try:
            status, _ = dig(self.addr, self.port, name, rtype, timeout=1)
        except subprocess.TimeoutExpired:
            return False
        return status is not None

    def wait_ready(self, timeout=15.0):
        try:
            ports.wait_until(self.answers, timeout, "unbound on %s" % self.server,
                             interval=0.05, alive=self.proc.alive)
        except Exception as e:
            raise RuntimeError("%s\n%s" % (e, self.proc.output())) from None

    def stop(self):
        return self.proc.stop()


def start_unbound(testcase, workdir, zone, **kw):
    """Starts unbound for a test, waits until it answers, registers its stop."""
    u = Unbound(workdir, zone, **kw)
    testcase.addCleanup(u.stop)
    u.wait_ready()
    return u


def mx_zone(hosts, pref=10):
    """Zone spec where each domain's single MX `mx.<domain>` has address ip.

    hosts: {domain: ip}. Returns a spec for Unbound/zone_lines."""
    zone = {}
    for domain, ip in hosts.items():
        zone[domain] = {"mx": [(pref, "mx." + domain)]}
        zone["mx." + domain] = {"a": [ip]}
    return zone
