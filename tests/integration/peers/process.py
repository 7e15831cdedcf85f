# Starts a peer process with its output in files, and stops it by its pid.
# The process gets its own session (process group = its pid) so that stop()
# also reaches its children; nothing is ever killed by name.
import os
import signal
import subprocess


class Process:
    """A child process whose stdout/stderr go to files in workdir.

    Use as a context manager, or call stop() (idempotent) from a cleanup."""

    def __init__(self, argv, workdir, name, env=None, cwd=None, stdin=subprocess.DEVNULL):
        self.argv = [str(a) for a in argv]
        self.name = name
        self.stdout_path = os.path.join(workdir, name + ".stdout")
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=stdin,
                stdout=out,
                stderr=err,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def returncode(self):
        return self.popen.poll()

    def wait(self, timeout):
        """Waits up to timeout seconds; returns the exit status (raises on timeout)."""
        return self.popen.wait(timeout=timeout)

    def stop(self, grace=5.0):
        """SIGTERM to the process group, SIGKILL after `grace` seconds."""
        if self.popen.poll() is not None:
            self._reap_group()
            return self.popen.returncode
        self._signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.popen.wait(timeout=grace)
        self._reap_group()
        return self.popen.returncode

    def _signal(self, sig):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            self.popen.send_signal(sig)

    def _reap_group(self):
        # Children left behind in the group (the leader is gone): kill them too.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def output(self, limit=4000):
        """The tail of stdout and stderr, for failure messages."""
        parts = []
        for label, path in (("stdout", self.stdout_path), ("stderr", self.stderr_path)):
            try:
                with open(path, "rb") as f:
                    f.seek(0, os.SEEK_END)
                    size = f.tell()
                    f.seek(max(0, size - limit))
                    text = f.read().decode("utf-8", "replace")
            except OSError as e:
                text = "(%s)" % e
            parts.append("--- %s %s ---\n%s" % (self.name, label, text))
        return "\n".join(parts)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def start(testcase, argv, workdir, name, **kw):
    """Starts a Process whose stop() is registered with testcase.addCleanup."""
    p = Process(argv, workdir, name, **kw)
    testcase.addCleanup(p.stop)
    return p


def run(argv, timeout, env=None, cwd=None, input=None):
    """Runs a command to completion (bounded); returns CompletedProcess with text."""
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        input=input,
    )
