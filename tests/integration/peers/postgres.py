# A private PostgreSQL for a test (Debian's postgresql package): initdb in
# the test's directory, pg_ctl on 127.0.0.1 and a free port, as user
# postgres when the test runs as root; stopped by pg_ctl at cleanup. Missing
# binaries fail the test (scripts/bootstrap installs them), never skip it.
import glob
import os
import pwd
import subprocess

from . import ports


def _bin_dir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise AssertionError("PostgreSQL's initdb is missing: scripts/bootstrap installs the "
                             "postgresql package")
    return os.path.dirname(found[-1])


class Cluster:
    """.uri(db), .create_database(name) -> URI, .stop(), .start(), .psql(db, sql)."""

    def __init__(self, workdir):
        self.bin = _bin_dir()
        self.data = os.path.join(workdir, "pgdata")
        os.makedirs(self.data)
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.data, pw.pw_uid, pw.pw_gid)
        self.port = ports.free_port("127.0.0.1")
        self._run([os.path.join(self.bin, "initdb"), "-D", self.data, "-A", "trust", "-U",
                   "postgres", "-E", "UTF8", "--no-locale"], timeout=120)
        self.running = False
        self.start()

    def _run(self, argv, timeout=60, check=True):
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           text=True)
        if check and r.returncode != 0:
            raise AssertionError("%s failed:\n%s" % (" ".join(argv), r.stdout))
        return r

    def start(self):
        opts = "-h 127.0.0.1 -p %d -k %s -c max_connections=200" % (self.port, self.data)
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l",
                   os.path.join(self.data, "log"), "-w", "-t", "60", "-o", opts, "start"],
                  timeout=90)
        self.running = True

    def stop(self, mode="fast"):
        if not self.running:
            return
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"],
                  timeout=90)
        self.running = False

    def uri(self, db="postgres"):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, db)

    def create_database(self, name):
        self.psql("postgres", "CREATE DATABASE %s" % name)
        return self.uri(name)

    def psql(self, db, sql):
        """Runs sql with psql in database db (a name or a URI); returns its
        unaligned, tuples-only output."""
        uri = db if db.startswith("postgresql://") else self.uri(db)
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-A", "-t", "-v",
                            "ON_ERROR_STOP=1", "-d", uri, "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, text=True)
        if r.returncode != 0:
            raise AssertionError("psql %r failed: %s" % (sql, r.stderr))
        return r.stdout.strip()


def start_cluster(testcase, workdir):
    """A Cluster, stopped at the test's cleanup."""
    c = Cluster(workdir)
    testcase.addCleanup(lambda: c.stop(mode="immediate"))
    return c
