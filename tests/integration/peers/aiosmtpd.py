# Python's aiosmtpd as a permissive SMTP peer (a subprocess of Debian's python3),
# keeping what it receives in a Maildir so tests can look for their token.
# Limits: plain SMTP; accepts any sender and recipient (an open relay's manners).
import mailbox
import os

from . import ports, process

PYTHON = "/usr/bin/python3"


class Aiosmtpd:
    """`python3 -m aiosmtpd -n -l ADDR:PORT -c aiosmtpd.handlers.Mailbox DIR`."""

    def __init__(self, workdir, addr=None, port=None):
        self.addr = addr or ports.random_loopback()
        self.port = port or ports.free_port(self.addr)
        self.workdir = os.path.join(workdir, "aiosmtpd-%s-%d" % (self.addr, self.port))
        os.makedirs(self.workdir, exist_ok=True)
        self.maildir = os.path.join(self.workdir, "Maildir")
        # -I: isolated, so nothing in the test's directory shadows the real package.
        self.proc = process.Process(
            [PYTHON, "-I", "-m", "aiosmtpd", "-n", "-l", "%s:%d" % (self.addr, self.port),
             "-c", "aiosmtpd.handlers.Mailbox", self.maildir],
            self.workdir, "aiosmtpd")

    def wait_ready(self, timeout=15.0):
        try:
            ports.wait_for_port(self.addr, self.port, timeout, alive=self.proc.alive)
        except Exception as e:
            raise RuntimeError("%s\n%s" % (e, self.proc.output())) from None

    def messages(self):
        """Every message received so far, as text."""
        if not os.path.isdir(os.path.join(self.maildir, "new")):
            return []
        md = mailbox.Maildir(self.maildir, create=False)
        return [m.as_bytes().decode("utf-8", "replace") for m in md]

    def wait_for(self, needle, timeout=15.0):
        def find():
            for m in self.messages():
                if needle in m:
                    return m
            return None
        return ports.wait_until(find, timeout, "a message with %r at aiosmtpd" % needle,
                                interval=0.05, alive=self.proc.alive)

    def stop(self):
        return self.proc.stop()


def start_aiosmtpd(testcase, workdir, **kw):
    a = Aiosmtpd(workdir, **kw)
    testcase.addCleanup(a.stop)
    a.wait_ready()
    return a
