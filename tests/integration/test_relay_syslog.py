# [log] to = "syslog" (issue 15.3): the relay's lines reach the syslog socket
# with facility mail and the tag relayscope[PID]. This machine has no
# /dev/log (and no syslog daemon), so the test gives the relay its own: in a
# private mount namespace (`unshare -m`), /dev becomes a tmpfs holding the
# few device nodes the relay uses and a /dev/log that leads to the test's
# datagram socket. Nothing outside the namespace changes.
import os
import shutil
import socket
import unittest

from peers import ports, process, relay
from peers.workdir import make_workdir

NAMESPACE_SCRIPT = r"""
set -e
T=$1; shift
mkdir -p "$T/olddev"
mount --rbind /dev "$T/olddev"
mount -t tmpfs -o mode=0755 tmpfs /dev
for n in null zero random urandom; do
  touch "/dev/$n"
  mount --bind "$T/olddev/$n" "/dev/$n"
done
ln -s "$T/log.sock" /dev/log
exec "$@"
"""


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"),
                     "needs root and unshare for a private /dev/log")
class SyslogTest(unittest.TestCase):
    def test_lines_go_to_syslog_with_facility_mail(self):
        d = make_workdir(self, "relayscope-syslog-")
        sock_path = os.path.join(d, "log.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(sock_path)
        os.chmod(sock_path, 0o666)
        sock.settimeout(0.2)

        r = relay.Relay(d, tls=False, extra='[log]\nto = "syslog"\n')
        script = os.path.join(d, "ns.sh")
        with open(script, "w") as f:
            f.write(NAMESPACE_SCRIPT)
        r.proc = process.Process(["unshare", "-m", "--propagation", "private", "/bin/sh", script,
                                  d, relay.relayscope_bin(), "relay", "--config", r.config],
                                 d, "relay")
        self.addCleanup(r.stop)
        ports.wait_until(r._listening, 20, "the relay to listen", alive=r.proc.alive)

        got = []

        def received(needle):
            try:
                while True:
                    got.append(sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                pass
            return any(needle in m for m in got)

        ports.wait_until(lambda: received("listening on"), 20, "the listening line in syslog",
                         alive=r.proc.alive)
        line = next(m for m in got if "listening on" in m)
        # <PRI>: facility mail (2) * 8 + info (6) = 22.
        self.assertTrue(line.startswith("<22>"), line)
        self.assertIn("relayscope[%d]: " % r.proc.pid, line)
        # Nothing of it on standard error: syslog is where the log goes.
        self.assertNotIn("listening on", r.log())
        # A message's lines carry its queue id there too.
        import smtplib
        with smtplib.SMTP(r.addr, r.port, source_address=(relay.LOCAL_CLIENT, 0),
                          timeout=20) as s:
            s.sendmail("a@example.test", ["postmaster@example.test"], "Subject: x\r\n\r\nhi\r\n")
        ports.wait_until(lambda: received("(queue active)"), 20, "the queued line in syslog",
                         alive=r.proc.alive)
        queued = next(m for m in got if "(queue active)" in m)
        qid = queued.split("]: ", 1)[1].split(":", 1)[0]
        ports.wait_until(lambda: received("%s: client=" % qid), 20, "the client line",
                         alive=r.proc.alive)


if __name__ == "__main__":
    unittest.main()
