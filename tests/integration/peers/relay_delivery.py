# `relayscope relay` for the delivery and durability tests: a config with the
# delivery side chosen by the test (smarthost, or MX through a loopback DNS
# server; retry schedule; DNSBL zones), start / kill -9 / restart on the same
# spool, `relayscope queue`, and bounded waits on the queue and Maildirs.
# Limits: plain SMTP only (no TLS, no AUTH: the session tests cover those).
import glob
import os
import re
import signal
import smtplib

from . import ports, process
from .relay import add_user

LOCAL_CLIENT = "127.0.0.2"
STRANGER = "127.0.0.1"


def relayscope_bin():
    return os.environ["RELAYSCOPE_BIN"]


def _toml_list(items):
    return "[" + ", ".join('"%s"' % i for i in items) + "]"


class DeliveryRelay:
    """One relay; see the module comment. delivery: dict of [delivery] keys
    (strings, lists or ints, written as TOML); dnsbl: dict of [dnsbl] keys;
    users: names of the local mailboxes; extra: TOML appended verbatim."""

    def __init__(self, workdir, delivery, local_domains=("example.test",),
                 local_networks=(LOCAL_CLIENT + "/32",), dnsbl=None, hostname="mx.example.test",
                 limits=None, users=(), extra=""):
        self.workdir = workdir
        self.addr = ports.random_loopback()
        self.port = ports.free_port(self.addr)
        self.hostname = hostname
        self.mailbox_root = os.path.join(workdir, "mail")
        self.spool_dir = os.path.join(workdir, "spool")
        self.config = os.path.join(workdir, "relay.toml")
        self.runs = 0
        lines = [
            "[server]",
            'listen = ["%s:%d"]' % (self.addr, self.port),
            'hostname = "%s"' % hostname,
            "[policy]",
            "local_networks = " + _toml_list(local_networks),
            "local_domains = " + _toml_list(local_domains),
            "[mailboxes]",
            'root = "%s"' % self.mailbox_root,
            "[spool]",
            'dir = "%s"' % self.spool_dir,
            "[timeouts]",
            'greet_pause = "0ms"',
            "[delivery]",
        ] + self._section(dict({"scope": ["127.0.0.0/8"]}, **delivery))
        if dnsbl:
            lines += ["[dnsbl]"] + self._section(dnsbl)
        if limits:
            lines += ["[limits]"] + self._section(limits)
        if users:
            # The local mailboxes (issue 14: unknown local recipients get
            # 550 5.1.1); random passwords: these users do not log in here.
            self.users_file = os.path.join(workdir, "users")
            for name in users:
                add_user(self.users_file, name, os.urandom(9).hex())
            lines += ["[auth]", 'users_file = "%s"' % self.users_file]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)
        self.proc = None

    @staticmethod
    def _section(keys):
        out = []
        for k, v in keys.items():
            if isinstance(v, (list, tuple)):
                out.append("%s = %s" % (k, _toml_list(v)))
            elif isinstance(v, int):
                out.append("%s = %d" % (k, v))
            else:
                out.append('%s = "%s"' % (k, v))
        return out

    def start(self, timeout=30.0, wrapper=()):
        """Starts (or restarts, on the same spool) the relay; waits until it
        listens. wrapper: argv put in front (e.g. strace and its options)."""
        self.runs += 1
        env = None
        if wrapper:
            # LeakSanitizer cannot run under ptrace: the rest of ASan still does.
            env = dict(os.environ)
            env["ASAN_OPTIONS"] = ":".join(
                o for o in (env.get("ASAN_OPTIONS"), "detect_leaks=0") if o)
        self.proc = process.Process(list(wrapper) + [relayscope_bin(), "relay", "--config",
                                                     self.config],
                                    self.workdir, "relay-%d" % self.runs, env=env)
        try:
            ports.wait_until(self._listening, timeout, "the relay to listen",
                             alive=self.proc.alive)
        except Exception as e:
            raise RuntimeError("%s\n%s" % (e, self.proc.output())) from None
        return self

    def _listening(self):
        try:
            with open(self.proc.stdout_path) as f:
                return "listening on" in f.read()
        except OSError:
            return False

    def kill9(self):
        """SIGKILL, as a power cut would: no clean-up code runs."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        """SIGTERM; raises when the relay did not exit 0 or its log has a
        sanitizer report. A relay already killed by kill9() is left alone."""
        if self.proc is None or self.proc.returncode() is not None:
            return
        rc = self.proc.stop()
        log = self.log()
        for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if bad in log:
                raise AssertionError("relay log has %r\n%s" % (bad, self.output()))
        if rc != 0:
            raise AssertionError("relay exited with %s\n%s" % (rc, self.output()))

    def output(self, limit=20000):
        return self.proc.output(limit) if self.proc else ""

    def log(self):
        """Standard error of every run so far."""
        text = ""
        for i in range(1, self.runs + 1):
            with open(os.path.join(self.workdir, "relay-%d.stderr" % i), errors="replace") as f:
                text += f.read()
        return text

    # --- clients -----------------------------------------------------------

    def smtp(self, source=STRANGER, timeout=30):
        """An smtplib client bound to `source`."""
        return smtplib.SMTP(self.addr, self.port, local_hostname="client.example.org",
                            timeout=timeout, source_address=(source, 0))

    def send(self, mail_from, rcpts, body, source=STRANGER, subject="test"):
        """One message; returns smtplib's refused-recipients dict (raises on failure)."""
        msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@client.example.org>"
               "\r\n\r\n%s\r\n") % (mail_from or "nobody@client.example.org", rcpts[0], subject,
                                    subject.replace(" ", "-"), body)
        with self.smtp(source) as s:
            return s.sendmail(mail_from, rcpts, msg.encode())

    # --- the queue ---------------------------------------------------------

    def queue(self, *args, timeout=60):
        return process.run([relayscope_bin(), "queue", "--config", self.config] + list(args),
                           timeout=timeout)

    def queued_ids(self):
        """Message files now in spool/queue (ids)."""
        return sorted(os.path.basename(p) for p in glob.glob(os.path.join(self.spool_dir,
                                                                          "queue", "*"))
                      if "." not in os.path.basename(p))

    def wait_queue_empty(self, timeout=60.0):
        ports.wait_until(lambda: not self.queued_ids(), timeout, "the relay's queue to empty",
                         interval=0.1, alive=self.proc.alive)

    def wait_log(self, pattern, timeout=30.0):
        rx = re.compile(pattern)
        return ports.wait_until(lambda: rx.search(self.log()), timeout,
                                "%r in the relay's log" % pattern, interval=0.05,
                                alive=self.proc.alive)

    # --- Maildirs ----------------------------------------------------------

    def maildir_messages(self, address):
        user, domain = address.split("@")
        d = os.path.join(self.mailbox_root, domain, user, "new")
        out = []
        for p in sorted(glob.glob(os.path.join(d, "*"))):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_maildir(self, address, needle, timeout=30.0):
        def find():
            for m in self.maildir_messages(address):
                if needle.encode() in m:
                    return m
            return None
        return ports.wait_until(find, timeout, "%r in the Maildir of %s" % (needle, address),
                                interval=0.05, alive=self.proc.alive)


def start_relay(testcase, workdir, **kw):
    r = DeliveryRelay(workdir, **kw)
    testcase.addCleanup(r.stop)
    r.start()
    return r
