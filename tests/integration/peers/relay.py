# `relayscope relay` as a peer: writes a config (and a self-signed cert, a
# users file made with `relayscope passwd`: the relay's local mailboxes)
# into the test's temp dir, starts
# the server on a random 127.x address, waits (bounded) until it accepts, and
# stops it by pid at cleanup. Local networks are 127.0.0.2/32: a client bound
# to 127.0.0.2 is local, one bound to 127.0.0.1 is a stranger.
import glob
import os
import socket
import ssl
import subprocess
import time

from . import ports, process

LOCAL_CLIENT = "127.0.0.2"
STRANGER = "127.0.0.1"


def relayscope_bin():
    return os.environ["RELAYSCOPE_BIN"]


def make_cert(workdir, hostname):
    """A self-signed certificate and key (openssl CLI); returns (cert, key)."""
    cert = os.path.join(workdir, "cert.pem")
    key = os.path.join(workdir, "key.pem")
    r = process.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
         cert, "-days", "2", "-subj", "/CN=" + hostname], timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl req failed: " + r.stderr)
    return cert, key


def add_user(users_file, name, password):
    r = process.run([relayscope_bin(), "passwd", "--users", users_file, name], timeout=60,
                    input=password + "\n")
    if r.returncode != 0:
        raise RuntimeError("relayscope passwd failed: %s %s" % (r.stdout, r.stderr))
    return r


def _toml_list(items):
    return "[" + ", ".join('"%s"' % i for i in items) + "]"


class Relay:
    """One relay server; see the module comment. `extra` is TOML appended
    verbatim (sections not written here: [limits], [timeouts]...)."""

    def __init__(self, workdir, local_domains=("example.test",), tls=True, users=None,
                 smarthost=None, extra="", hostname="mx.example.test", port=None,
                 user=None):
        self.workdir = workdir
        self.addr = ports.random_loopback()
        self.port = port or ports.free_port(self.addr)
        self.hostname = hostname
        self.local_domains = list(local_domains)
        self.mailbox_root = os.path.join(workdir, "mail")
        self.spool_dir = os.path.join(workdir, "spool")
        self.config = os.path.join(workdir, "relay.toml")
        # Nothing listens there unless the test starts a sink: remote mail
        # then simply waits in the queue.
        self.smarthost = smarthost or "127.0.0.1:%d" % ports.free_port("127.0.0.1")
        lines = [
            "[server]",
            'listen = ["%s:%d"]' % (self.addr, self.port),
            'hostname = "%s"' % hostname,
        ] + (['user = "%s"' % user] if user else []) + [
            "[policy]",
            'local_networks = ["%s/32"]' % LOCAL_CLIENT,
            "local_domains = " + _toml_list(self.local_domains),
            "[mailboxes]",
            'root = "%s"' % self.mailbox_root,
            "[spool]",
            'dir = "%s"' % self.spool_dir,
            "[delivery]",
            'smarthost = "%s"' % self.smarthost,
            'scope = ["127.0.0.0/8"]',
            'retry = ["1s"]',
        ]
        self.users_file = None
        if tls:
            self.cert, self.key = make_cert(workdir, hostname)
            lines += ["[tls]", 'cert = "%s"' % self.cert, 'key = "%s"' % self.key]
        if users:
            # The users are the local mailboxes (issue 14); without TLS
            # they do not log in (AUTH is offered only under TLS).
            self.users_file = os.path.join(workdir, "users")
            for name, password in users.items():
                add_user(self.users_file, name, password)
            lines += ["[auth]", 'users_file = "%s"' % self.users_file,
                      'failure_delay = "100ms"']
        text = "\n".join(lines) + "\n" + extra
        with open(self.config, "w") as f:
            f.write(text)
        self.proc = None

    def start(self, timeout=20.0):
        self.proc = process.Process([relayscope_bin(), "relay", "--config", self.config],
                                    self.workdir, "relay")
        try:
            # The listening line is printed once every listener is bound and
            # accepting; a connect to the port would count as a session.
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

    def stop(self):
        """Stops the server (SIGTERM); raises when it did not end cleanly
        (exit status not 0, or a sanitizer report in its log)."""
        if not self.proc or self.proc.returncode() is not None and getattr(self, "_checked", False):
            return None
        rc = self.proc.stop()
        self._checked = True
        log = self.log()
        for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if bad in log:
                raise AssertionError("relay log has %r\n%s" % (bad, self.output()))
        if rc != 0:
            raise AssertionError("relay exited with %s\n%s" % (rc, self.output()))
        return rc

    def output(self):
        return self.proc.output(20000) if self.proc else ""

    def log(self):
        with open(self.proc.stderr_path, errors="replace") as f:
            return f.read()

    # --- clients -----------------------------------------------------------

    def connect(self, source=STRANGER, timeout=10.0):
        """A raw TCP socket to the relay from `source`."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect((self.addr, self.port))
        return s

    def client_context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        ctx.check_hostname = False
        return ctx

    def swaks(self, *args, source=STRANGER, timeout=60):
        argv = ["swaks", "--server", self.addr, "--port", str(self.port), "--local-interface",
                source, "--timeout", "20", "--helo", "client.example.org"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    # --- what arrived ------------------------------------------------------

    def maildir_messages(self, address):
        user, domain = address.split("@")
        d = os.path.join(self.mailbox_root, domain, user, "new")
        out = []
        for p in sorted(glob.glob(os.path.join(d, "*"))):
            with open(p, "rb") as f:
                out.append(f.read().decode("utf-8", "replace"))
        return out

    def wait_maildir(self, address, needle, timeout=20.0):
        def find():
            for m in self.maildir_messages(address):
                if needle in m:
                    return m
            return None
        return ports.wait_until(find, timeout, "%r in the Maildir of %s" % (needle, address),
                                interval=0.05, alive=self.proc.alive)

    def spooled(self):
        """Every message file now in the spool queue (envelope + message)."""
        out = []
        for p in sorted(glob.glob(os.path.join(self.spool_dir, "queue", "*"))):
            if p.endswith(".done"):
                continue
            with open(p, "rb") as f:
                out.append(f.read().decode("utf-8", "replace"))
        return out


def start_relay(testcase, workdir, **kw):
    r = Relay(workdir, **kw)
    testcase.addCleanup(r.stop)
    r.start()
    return r


def read_reply(sock_file):
    """One SMTP reply from a socket's file: (code, [lines])."""
    lines = []
    while True:
        line = sock_file.readline(4096)
        if not line:
            raise ConnectionError("connection closed; got %r" % lines)
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]), lines


def wait_closed(sock, timeout=10.0):
    """True when the peer closes the connection within timeout (reads to EOF)."""
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False
