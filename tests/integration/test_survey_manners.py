# Scanning manners (issue 12 item 6), black box, in a network namespace the
# test makes (`unshare -n`: only its own loopback, nothing leaves it). Mail
# hosts listen on addresses of special-purpose ranges (10.0.0.53, private;
# 192.0.2.25, documentation) and on 127.0.0.1, each logging who connects:
# - with a scope that reaches the Internet (0.0.0.0/0, plus 127.0.0.0/8 for
#   loopback), the special-purpose targets drop out of the funnel as excluded
#   and are never connected to; --helo, --mail-from and --rcpt-to are then
#   required (exit 2, one line, no run), and --contact rides in the message;
# - a --scope CIDR within a range (192.0.2.0/24) lifts that range only.
import os
import shutil
import sqlite3
import subprocess
import unittest

from peers import relayscope, workdir

# Runs in the new namespace: brings up its loopback, adds the two special-
# purpose addresses to it, starts one SMTP host per address (each logs the
# connections it accepts and keeps the message it is sent), runs the
# command, stops the hosts.
NAMESPACE_SCRIPT = r"""
set -e
D=$1; shift
rm -f "$D"/ready-*
ip link set lo up
ip addr add 10.0.0.53/32 dev lo
ip addr add 192.0.2.25/32 dev lo
pids=""
for a in 127.0.0.1 10.0.0.53 192.0.2.25; do
  /usr/bin/python3 "$D/host.py" "$a" "$D" >"$D/host-$a.log" 2>&1 </dev/null &
  pids="$pids $!"
done
for i in $(seq 1 100); do
  [ -e "$D/ready-127.0.0.1" ] && [ -e "$D/ready-10.0.0.53" ] && [ -e "$D/ready-192.0.2.25" ] && break
  sleep 0.05
done
set +e
"$@"
status=$?
kill $pids 2>/dev/null
exit $status
"""

# An open relay that logs each connection to D/connections and each message
# to D/message-ADDR.
HOST_SCRIPT = r"""
import os, socketserver, sys
addr, d = sys.argv[1], sys.argv[2]

class Session(socketserver.StreamRequestHandler):
    def handle(self):
        with open(os.path.join(d, "connections"), "a") as f:
            f.write(addr + "\n")
        self.wfile.write(b"220 host ESMTP\r\n")
        data = None
        for line in self.rfile:
            if data is not None:
                if line == b".\r\n":
                    with open(os.path.join(d, "message-" + addr), "wb") as f:
                        f.write(data)
                    data = None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data += line
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                data = b""
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")

socketserver.TCPServer.allow_reuse_address = True
server = socketserver.ThreadingTCPServer((addr, 2525), Session)
open(os.path.join(d, "ready-" + addr), "w").close()
server.serve_forever()
"""

CONTACT = "Relay survey by the relayscope tests; to opt out write to optout@example.org"


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"),
                     "needs root, unshare and ip for a network namespace")
class SurveyMannersTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)
        for name, text in (("ns.sh", NAMESPACE_SCRIPT), ("host.py", HOST_SCRIPT)):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        self.targets = relayscope.write_targets(self.dir,
                                                ["127.0.0.1", "10.0.0.53", "192.0.2.25"])

    def survey(self, db, scopes, extra=()):
        argv = ["unshare", "-n", "/bin/sh", os.path.join(self.dir, "ns.sh"), self.dir,
                relayscope.binary(), "survey", "--targets", self.targets, "--domains",
                "--dns", "10.9.9.9:53", "--db", db, "--port", "2525", "--timeout", "5",
                "--greylist-retry", "0", "--quiet"]
        for s in scopes:
            argv += ["--scope", s]
        r = subprocess.run(argv + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        try:
            with open(os.path.join(self.dir, "connections")) as f:
                connected = sorted(set(f.read().split()))
            os.remove(os.path.join(self.dir, "connections"))
        except FileNotFoundError:
            connected = []
        return r, connected

    def test_special_purpose_targets_are_excluded_unless_a_scope_lies_within(self):
        named = ["--helo", "probe.relayscope.test", "--mail-from", "probe@example.org",
                 "--rcpt-to", "relay-test@example.org"]
        # The Internet: every special-purpose range is excluded but 127/8,
        # which a scope CIDR lies within.
        db = os.path.join(self.dir, "internet.db")
        r, connected = self.survey(db, ["0.0.0.0/0", "127.0.0.0/8"],
                                   named + ["--contact", CONTACT])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("3 resolved hosts, 2 excluded, 1 sampled", r.stdout)
        self.assertEqual(connected, ["127.0.0.1"])
        with sqlite3.connect(db) as con:
            self.assertEqual(con.execute("SELECT ip, outcome FROM probes").fetchall(),
                             [("127.0.0.1", "OK")])
            self.assertEqual(con.execute("SELECT excluded FROM runs").fetchall(), [(2,)])
        with open(os.path.join(self.dir, "message-127.0.0.1"), "rb") as f:
            message = f.read().decode()
        self.assertIn("\r\nX-Relayscope-Contact: " + CONTACT + "\r\n", message)
        self.assertIn("optout@example.org", message.split("\r\n\r\n", 1)[1])
        # A scope within the documentation range lifts it, and only it.
        r, connected = self.survey(os.path.join(self.dir, "lifted.db"),
                                   ["192.0.2.0/24", "127.0.0.0/8"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("3 resolved hosts, 1 excluded, 2 sampled", r.stdout)
        self.assertEqual(connected, ["127.0.0.1", "192.0.2.25"])

    def test_a_scope_reaching_the_internet_requires_a_named_survey(self):
        db = os.path.join(self.dir, "unnamed.db")
        r, connected = self.survey(db, ["0.0.0.0/0"], ["--helo", "probe.relayscope.test"])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("--mail-from and --rcpt-to are required", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertEqual(connected, [])
        self.assertFalse(os.path.exists(db))


if __name__ == "__main__":
    unittest.main()
