# `relayscope passwd` (issue 15.2): keeps the users file's owner and mode
# (the relay re-reads it as its own user), refuses short passwords, and on a
# terminal asks twice; from a pipe it reads one line, for scripts.
import os
import pty
import pwd
import select
import subprocess
import time
import unittest

from peers import process, relay
from peers.workdir import make_workdir


def passwd(users, name, stdin_text):
    return process.run([relay.relayscope_bin(), "passwd", "--users", users, name], timeout=60,
                       input=stdin_text)


def on_a_terminal(users, name, answers, timeout=30.0):
    """Runs passwd with a pseudo-terminal as standard input, answering each
    prompt in turn; returns (exit status, everything it wrote)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([relay.relayscope_bin(), "passwd", "--users", users, name],
                         stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out, pending = b"", list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                out += chunk
                # A prompt ends with ": " and waits for its answer.
                if pending and out.rstrip(b" ").endswith(b":"):
                    os.write(master, (pending.pop(0) + "\n").encode())
            elif p.poll() is not None:
                break
        return p.wait(timeout=max(1, deadline - time.monotonic())), out.decode(errors="replace")
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait()


class PasswdTest(unittest.TestCase):
    def setUp(self):
        self.dir = make_workdir(self, "relayscope-passwd-")
        self.users = os.path.join(self.dir, "users")

    def test_short_password_is_refused(self):
        res = passwd(self.users, "alice", "short\n")
        self.assertEqual(res.returncode, 2)
        self.assertIn("too short", res.stderr)
        self.assertFalse(os.path.exists(self.users))
        self.assertEqual(passwd(self.users, "alice", "long enough pass\n").returncode, 0)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to give the file to another user")
    def test_owner_and_mode_are_kept(self):
        self.assertEqual(passwd(self.users, "alice", "long enough pass\n").returncode, 0)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.users, nobody.pw_uid, nobody.pw_gid)
        os.chmod(self.users, 0o640)
        res = passwd(self.users, "bob", "another long one\n")
        self.assertEqual(res.returncode, 0, res.stderr)
        st = os.stat(self.users)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                         (nobody.pw_uid, nobody.pw_gid, 0o640))
        with open(self.users) as f:
            names = [line.split(":")[0] for line in f if ":" in line and not line.startswith("#")]
        self.assertEqual(sorted(names), ["alice", "bob"])

    def test_a_terminal_is_asked_twice(self):
        rc, out = on_a_terminal(self.users, "alice", ["long enough pass", "long enough pass"])
        self.assertEqual(rc, 0, out)
        self.assertIn("Retype", out)
        self.assertNotIn("long enough pass", out)  # no echo
        rc, out = on_a_terminal(self.users, "bob", ["long enough pass", "a different one"])
        self.assertEqual(rc, 2, out)
        self.assertIn("differ", out)
        with open(self.users) as f:
            self.assertNotIn("bob:", f.read())


if __name__ == "__main__":
    unittest.main()
