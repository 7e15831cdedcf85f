# A private Dovecot (Debian's dovecot-core + dovecot-pop3d) for the tests: POP3
# only, on one 127.x address and a free port, every file in the test's
# directory (base_dir, logs, config), serving the relay's Maildirs
# (mail_location = maildir:ROOT/%d/%n) with the relay's users file as its
# passdb (passwd-file, scheme=ARGON2ID, username_format=%n): the lines the
# README documents. An optional postlogin script runs after each login (as
# root: here the relay, which owns the window directory, runs as root).
# Dovecot never serves mail as uid 0, so its mail user is `mail_user`
# (default "nobody"): the test hands the Maildirs to it (chown_maildirs)
# after the relay, running as root, delivered.
import grp
import os
import pwd
import shutil

from . import ports, process

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


class Dovecot:
    def __init__(self, workdir, users_file, mailbox_root, postlogin=None, addr=None,
                 mail_user="nobody", mail_group="nogroup"):
        self.mailbox_root = mailbox_root
        self.mail_user, self.mail_group = mail_user, mail_group
        self.dir = os.path.join(workdir, "dovecot")
        os.makedirs(os.path.join(self.dir, "run"), exist_ok=True)
        self.addr = addr or ports.random_loopback()
        self.port = ports.free_port(self.addr)
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self.config = os.path.join(self.dir, "dovecot.conf")
        lines = [
            "base_dir = %s/run" % self.dir,
            "state_dir = %s/state" % self.dir,
            "instance_name = relayscope-test-%d" % self.port,
            "protocols = pop3",
            "listen = %s" % self.addr,
            "ssl = no",
            "disable_plaintext_auth = no",
            "log_path = %s" % self.log_path,
            "auth_verbose = yes",
            "mail_location = maildir:%s/%%d/%%n" % mailbox_root,
            "mail_uid = %s" % mail_user,
            "mail_gid = %s" % mail_group,
            "passdb {",
            "  driver = passwd-file",
            "  args = scheme=ARGON2ID username_format=%%n %s" % users_file,
            "}",
            "userdb {",
            "  driver = static",
            "  args = uid=%s gid=%s home=%s/%%d/%%n" % (mail_user, mail_group, mailbox_root),
            "}",
            "service pop3-login {",
            "  inet_listener pop3 {",
            "    address = %s" % self.addr,
            "    port = %d" % self.port,
            "  }",
            "}",
            "service anvil {",
            "  chroot =",
            "}",
        ]
        if postlogin:
            lines += [
                "service pop3 {",
                "  executable = pop3 postlogin",
                "}",
                "service postlogin {",
                "  executable = script-login %s" % postlogin,
                "  user = root",
                # The script runs relayscope, which may be a sanitizer build:
                # ASan reserves terabytes of address space, past Dovecot's
                # default 256M vsz_limit (the grant would die unseen).
                "  vsz_limit = 0",
                "  unix_listener postlogin {",
                "  }",
                "}",
            ]
        os.makedirs(os.path.join(self.dir, "state"), exist_ok=True)
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self, timeout=30.0):
        self.proc = process.Process([DOVECOT, "-F", "-c", self.config], self.dir, "dovecot")
        try:
            ports.wait_for_port(self.addr, self.port, timeout, alive=self.proc.alive)
        except Exception as e:
            raise RuntimeError("%s\n%s\n%s" % (e, self.proc.output(), self.log())) from None
        return self

    def chown_maildirs(self):
        """Gives the Maildirs to Dovecot's mail user (the relay in the tests
        runs as root; in production both run as one user)."""
        uid = pwd.getpwnam(self.mail_user).pw_uid
        gid = grp.getgrnam(self.mail_group).gr_gid
        for top, dirs, files in os.walk(self.mailbox_root):
            for name in [top] + [os.path.join(top, n) for n in dirs + files]:
                os.chown(name, uid, gid)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            self.proc.stop()


def start_dovecot(testcase, workdir, users_file, mailbox_root, postlogin=None, addr=None):
    d = Dovecot(workdir, users_file, mailbox_root, postlogin=postlogin, addr=addr)
    testcase.addCleanup(d.stop)
    return d.start()
