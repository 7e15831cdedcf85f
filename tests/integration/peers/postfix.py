# A private Postfix instance (run as root) on a chosen 127.x address and port,
# relaying to its own smtp-sink that keeps every message it gets in a file.
# Limits: needs root and Debian's postfix package; starting takes ~1-2 s
# (postfix-script checks the queue); plain SMTP only (no TLS settings).
import fcntl
import glob
import os
import re
import shutil

from . import ports, process

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
DEFAULT_MAIN_CF = "/etc/postfix/main.cf"
DEFAULT_MASTER_CF = "/etc/postfix/master.cf"
ALT_KEY = "alternate_config_directories"


def _edit_alternate_dirs(change, main_cf=DEFAULT_MAIN_CF):
    """Rewrites alternate_config_directories in the default main.cf under a lock.

    change(list_of_dirs) -> new list. Entries whose directory is gone (left by
    a test that was killed) are dropped, so the list stays short."""
    fd = os.open(main_cf, os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(fd, "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        text = f.read()
        lines = text.splitlines()
        dirs, keep = [], []
        for line in lines:
            m = re.match(r"\s*%s\s*=\s*(.*)$" % ALT_KEY, line)
            if m:
                dirs += [d for d in re.split(r"[\s,]+", m.group(1)) if d]
            else:
                keep.append(line)
        dirs = [d for d in change([d for d in dirs if os.path.isdir(d)]) if d]
        if dirs:
            keep.append("%s = %s" % (ALT_KEY, ", ".join(dict.fromkeys(dirs))))
        new = "\n".join(keep) + "\n"
        if new != text:
            f.seek(0)
            f.truncate()
            f.write(new)
            f.flush()
            os.fsync(f.fileno())


def register_config_dir(config_dir):
    """Lists config_dir in /etc/postfix/main.cf alternate_config_directories."""
    _edit_alternate_dirs(lambda dirs: dirs + [config_dir])


def unregister_config_dir(config_dir):
    _edit_alternate_dirs(lambda dirs: [d for d in dirs if d != config_dir])


def _master_cf(addr, port):
    """Debian's master.cf with chroot off everywhere and smtpd on addr:port."""
    out = []
    with open(DEFAULT_MASTER_CF) as f:
        for line in f:
            fields = line.split()
            if line[:1] not in ("#", " ", "\t") and len(fields) >= 8:
                if fields[0] == "smtp" and fields[1] == "inet":
                    fields[0] = "%s:%d" % (addr, port)
                fields[4] = "n"  # chroot: the private queue is not set up for it
                line = "  ".join(fields[:8]) + (" " + " ".join(fields[8:]) if fields[8:] else "") + "\n"
            out.append(line)
    return "".join(out)


class SmtpSink:
    """Postfix's smtp-sink on addr:port, saving each transaction to a file."""

    def __init__(self, workdir, addr, port=None, keep_messages=True):
        """keep_messages=False (benchmarks): nothing is written; instead
        received() counts the messages from smtp-sink's -c counters."""
        self.addr = addr
        self.port = port or ports.free_port(addr)
        self.dir = os.path.join(workdir, "sink")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)  # smtp-sink drops root for nobody before writing
        keep = ["-d", os.path.join(self.dir, "%Y%m%d%H%M%S.")] if keep_messages else ["-c"]
        self.proc = process.Process(
            [SMTP_SINK, "-u", "nobody", "-4", "-h", "sink.test"] + keep +
            ["%s:%d" % (addr, self.port), "256"],
            workdir, "smtp-sink")

    def wait_ready(self, timeout=10.0):
        ports.wait_for_port(self.addr, self.port, timeout, alive=self.proc.alive)

    def messages(self):
        """The text of every transaction saved so far (headers + body)."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "*"))):
            with open(path, "rb") as f:
                out.append(f.read().decode("utf-8", "replace"))
        return out

    def wait_for(self, needle, timeout=30.0):
        """Waits (bounded) for a saved message containing needle; returns it."""
        def find():
            for m in self.messages():
                if needle in m:
                    return m
            return None
        return ports.wait_until(find, timeout, "a message with %r at smtp-sink" % needle,
                                interval=0.1, alive=self.proc.alive)

    def received(self):
        """With keep_messages=False: messages received so far (the last
        `mesg=N` of smtp-sink's -c counters)."""
        found = re.findall(r"mesg=(\d+)", self.proc.output())
        return int(found[-1]) if found else 0

    def stop(self):
        return self.proc.stop()


class Postfix:
    """A private Postfix: smtpd on addr:port, relayhost = its own SmtpSink.

    mynetworks decides who may relay (the prober connects from 127.0.0.1);
    the relay restriction is permit_mynetworks, reject_unauth_destination,
    so strangers get `554 5.7.1 <rcpt>: Relay access denied` at RCPT TO."""

    def __init__(self, workdir, addr=None, port=None, mynetworks="127.0.0.2/32",
                 hostname="mx.postfix.test", extra_main_cf=None, sink_keeps_messages=True):
        if os.geteuid() != 0:
            raise RuntimeError("a private Postfix needs root")
        self.addr = addr or ports.random_loopback()
        self.port = port or ports.free_port(self.addr)
        self.base = os.path.join(os.path.abspath(workdir), "postfix")
        os.makedirs(self.base, exist_ok=True)
        # Postfix daemons run as user postfix: the whole path must be searchable.
        for d in (os.path.dirname(self.base), self.base):
            os.chmod(d, os.stat(d).st_mode | 0o055)
        path = os.path.dirname(os.path.dirname(self.base))
        while path != "/":
            if os.stat(path).st_mode & 0o001 == 0:
                raise RuntimeError("%s is not searchable by user postfix" % path)
            path = os.path.dirname(path)
        self.config_dir = os.path.join(self.base, "etc")
        self.queue_dir = os.path.join(self.base, "queue")
        self.data_dir = os.path.join(self.base, "data")
        self.log_dir = os.path.join(self.base, "log")
        for d in (self.config_dir, self.queue_dir, self.data_dir, self.log_dir):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data_dir, "postfix")
        self.maillog = os.path.join(self.log_dir, "maillog")
        self.sink_port = ports.free_port(self.addr)
        while self.sink_port == self.port:
            self.sink_port = ports.free_port(self.addr)
        self.sink = None
        self.sink_keeps_messages = sink_keeps_messages
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            # Without the prefix Postfix refuses the log file (and says so only to syslog).
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.base,
            "syslog_name": "postfix-relayscope-test",
            "myhostname": hostname,
            "mydomain": "postfix.test",
            "myorigin": "postfix.test",
            "mydestination": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            # Postfix only binds addresses that an interface carries: 127.0.0.1
            # here; master.cf names our own 127.x address for smtpd directly.
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": mynetworks,
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "relayhost": "[%s]:%d" % (self.addr, self.sink_port),
            "disable_dns_lookups": "yes",
            "smtp_dns_support_level": "disabled",
            "smtpd_error_sleep_time": "0",
            "smtputf8_enable": "no",
            "biff": "no",
        }
        settings.update(extra_main_cf or {})
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write(_master_cf(self.addr, self.port))
        self.started = False

    def postfix(self, *args, timeout=60):
        return process.run([POSTFIX, "-c", self.config_dir] + list(args), timeout=timeout)

    def log(self):
        try:
            with open(self.maillog, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, timeout=30.0):
        self.sink = SmtpSink(self.base, self.addr, self.sink_port,
                             keep_messages=self.sink_keeps_messages)
        self.sink.wait_ready()
        register_config_dir(self.config_dir)
        self.started = True
        r = self.postfix("start", timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("postfix start failed (%d): %s%s\n%s" % (r.returncode, r.stdout, r.stderr, self.log()))
        try:
            ports.wait_for_port(self.addr, self.port, timeout)
        except TimeoutError as e:
            raise RuntimeError("%s\n%s" % (e, self.log())) from None

    def master_pid(self):
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        """postfix stop, then waits (bounded) for the master to exit; also on failure."""
        if self.started:
            pid = self.master_pid()
            self.postfix("stop", timeout=30)
            if pid:
                try:
                    ports.wait_until(lambda: not os.path.exists("/proc/%d" % pid), 15,
                                     "postfix master %d to exit" % pid, interval=0.05)
                except TimeoutError:
                    try:
                        os.kill(pid, 9)
                    except ProcessLookupError:
                        pass
            unregister_config_dir(self.config_dir)
            self.started = False
        if self.sink:
            self.sink.stop()


def start_postfix(testcase, workdir, **kw):
    """Starts a private Postfix + smtp-sink for a test and registers their stop."""
    pf = Postfix(workdir, **kw)
    testcase.addCleanup(pf.stop)
    pf.start()
    return pf
