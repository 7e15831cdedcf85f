# rbldnsd serving a DNSBL zone file on loopback (Debian's rbldnsd), for the
# DNSBL export's end-to-end tests. Runs as `nobody` (it refuses root), so the
# zone's directory is made world-readable.
import os

from . import dns, ports, process


class Rbldnsd:
    def __init__(self, workdir, zone_name, zone_file, kind="ip4set", addr="127.0.0.1"):
        self.zone_name = zone_name
        self.addr = addr
        self.port = dns.free_dns_port(addr)
        zone_dir = os.path.dirname(os.path.abspath(zone_file))
        os.chmod(zone_dir, 0o755)
        os.chmod(zone_file, 0o644)
        self.proc = process.Process(
            ["rbldnsd", "-n", "-u", "nobody", "-b", "%s/%d" % (addr, self.port), "-w", zone_dir,
             "%s:%s:%s" % (zone_name, kind, os.path.basename(zone_file))],
            workdir, "rbldnsd")

    def query(self, ip, rtype="A"):
        """(status, [answers]) for the DNSBL query of `ip` (RFC 5782 form)."""
        name = ".".join(reversed(ip.split("."))) + "." + self.zone_name
        return dns.dig(self.addr, self.port, name, rtype, short=True)

    def wait_ready(self, timeout=15.0):
        # The RFC 5782 test entry answers once the zone is loaded.
        ports.wait_until(lambda: "127.0.0.2" in self.query("127.0.0.2")[1], timeout,
                         "rbldnsd to answer", alive=self.proc.alive)

    def stop(self):
        self.proc.stop()


def start_rbldnsd(testcase, workdir, zone_name, zone_file, **kw):
    r = Rbldnsd(workdir, zone_name, zone_file, **kw)
    testcase.addCleanup(r.stop)
    r.wait_ready()
    return r
