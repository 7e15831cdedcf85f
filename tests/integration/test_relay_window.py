# `relayscope relay-window --config FILE grant IP [--user NAME] | list`
# (issue 14, 5.): windows written into the window directory and listed; only
# [spool] and [pop_before_smtp] of the config are read (a config whose TLS
# key is unreadable and whose other sections are invalid still works); clear
# one-line errors with exit 2; expired windows leave the list by themselves.
import os
import re
import stat
import unittest

from peers import ports, process, workdir
from peers.relay_delivery import relayscope_bin

LINE = re.compile(r"^(\S+) (\S+) until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \((\d+) s left\)$")


class RelayWindowTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self, "relayscope-window-")
        self.config = self.write_config('[pop_before_smtp]\nwindow = "10m"\n')

    def write_config(self, tail, name="relay.toml"):
        path = os.path.join(self.dir, name)
        key = os.path.join(self.dir, "key.pem")
        with open(key, "w") as f:
            f.write("secret")
        os.chmod(key, 0)  # even root's tools must not need it: it is never opened
        with open(path, "w") as f:
            f.write('[server]\nlisten = "not a list"\nbogus = 1\n'
                    '[tls]\ncert = "/nonexistent/cert.pem"\nkey = "%s"\n'
                    '[auth]\nusers_file = "/nonexistent/users"\n'
                    '[spool]\ndir = "spool"\n' % key + tail)
        return path

    def run_window(self, *args, config=None):
        return process.run([relayscope_bin(), "relay-window", "--config", config or self.config]
                           + list(args), timeout=30)

    def listed(self, config=None):
        r = self.run_window("list", config=config)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = []
        for line in r.stdout.splitlines():
            m = LINE.match(line)
            self.assertIsNotNone(m, line)
            out.append((m.group(1), m.group(2), int(m.group(3))))
        return out

    def test_grant_and_list(self):
        self.assertEqual(self.listed(), [])
        r = self.run_window("grant", "127.0.0.3", "--user", "Alice")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^granted 127\.0\.0\.3 \(user alice\) until ")
        self.assertEqual(self.run_window("grant", "::1").returncode, 0)
        self.assertEqual(self.run_window("grant", "[2001:db8::7]").returncode, 0)
        got = self.listed()
        self.assertEqual(sorted((a, u) for a, u, _ in got),
                         [("127.0.0.3", "alice"), ("2001:db8::7", "-"), ("::1", "-")])
        for _, _, left in got:
            self.assertTrue(590 <= left <= 600, got)
        windows = os.path.join(self.dir, "spool", "windows")
        self.assertEqual(stat.S_IMODE(os.stat(windows).st_mode), 0o770)
        self.assertEqual(sorted(os.listdir(windows)),
                         ["127.0.0.3+alice.window", "2001_db8__7.window", "__1.window"])

    def test_dir_key_and_expiry(self):
        config = self.write_config('[pop_before_smtp]\nwindow = "1s"\ndir = "w"\n', "short.toml")
        self.assertEqual(self.run_window("grant", "127.0.0.9", config=config).returncode, 0)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "w", "127.0.0.9.window")))
        # Closed by time alone: nobody removes the file.
        ports.wait_until(lambda: self.listed(config) == [], 10, "the 1 s window to end",
                         interval=0.2)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "w", "127.0.0.9.window")))

    def test_errors_are_one_line_exit_2(self):
        cases = [
            (["grant", "nope"], self.config, "'nope' is not an IP address"),
            (["grant", "127.0.0.3", "--user", "a:b"], self.config, "bad user name 'a:b'"),
            (["grant", "127.0.0.3"], self.write_config("", "off.toml"),
             "[pop_before_smtp] window is not set: POP-before-SMTP is off"),
            (["grant", "127.0.0.3"],
             self.write_config('[pop_before_smtp]\nwindow = "ten"\n', "bad.toml"),
             "bad.toml:12: pop_before_smtp.window: 'ten' is not a duration"),
            (["list"], os.path.join(self.dir, "missing.toml"), "cannot read the file"),
        ]
        for args, config, needle in cases:
            r = self.run_window(*args, config=config)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(needle, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = process.run([relayscope_bin(), "relay-window", "grant", "127.0.0.3"], timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--config", r.stderr)

    def test_world_writable_dir_is_refused(self):
        windows = os.path.join(self.dir, "spool", "windows")
        os.makedirs(windows)
        os.chmod(windows, 0o777)
        r = self.run_window("grant", "127.0.0.3")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("may be written by anyone", r.stderr)
        self.assertEqual(os.listdir(windows), [])

    def test_help(self):
        r = process.run([relayscope_bin(), "relay-window", "--help"], timeout=30)
        self.assertEqual(r.returncode, 0)
        for word in ("--config", "grant", "list", "[pop_before_smtp]"):
            self.assertIn(word, r.stdout)
        r = process.run([relayscope_bin(), "relay-window", "--config", self.config, "grant",
                         "--help"], timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--user", r.stdout)


if __name__ == "__main__":
    unittest.main()
