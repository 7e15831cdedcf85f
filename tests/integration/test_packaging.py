# The Debian package and the systemd unit (issue 15.5): `cpack -G DEB` builds
# a package holding the binary, the unit, the example configuration, both man
# pages and the bash completion; it unpacks with `dpkg -x` into a scratch
# root (maintainer scripts are not run there: `dpkg --root` would run them in
# an empty root); its postinst, run against stand-ins for adduser and
# install, makes the system user and the spool and mail directories; and the
# unit passes `systemd-analyze verify` once its ExecStart points at the
# unpacked binary (verify needs the program at that path).
import os
import shutil
import subprocess
import unittest

from peers.workdir import make_workdir

BUILD = os.environ.get("RELAYSCOPE_BUILD_DIR", "")
SRC = os.environ.get("RELAYSCOPE_SOURCE_DIR", "")

WANTED = [
    "./usr/bin/relayscope",
    "./usr/lib/systemd/system/relayscope.service",
    "./etc/relayscope/relay.toml",
    "./usr/share/man/man1/relayscope.1.gz",
    "./usr/share/man/man5/relayscope.toml.5.gz",
    "./usr/share/bash-completion/completions/relayscope",
    "./usr/share/doc/relayscope/examples/relay.toml",
]


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)


@unittest.skipUnless(shutil.which("cpack") and shutil.which("dpkg-deb"), "needs cpack, dpkg-deb")
class PackageTest(unittest.TestCase):
    def setUp(self):
        self.dir = make_workdir(self, "relayscope-deb-")
        r = run(["cpack", "-G", "DEB", "-B", self.dir, "--config",
                 os.path.join(BUILD, "CPackConfig.cmake")], cwd=BUILD)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        debs = [f for f in os.listdir(self.dir) if f.endswith(".deb")]
        self.assertEqual(len(debs), 1, os.listdir(self.dir))
        self.deb = os.path.join(self.dir, debs[0])

    def test_contents_control_and_unpacked_root(self):
        listing = run(["dpkg-deb", "-c", self.deb])
        self.assertEqual(listing.returncode, 0, listing.stderr)
        paths = [line.split()[-1] for line in listing.stdout.splitlines()]
        for p in WANTED:
            self.assertIn(p, paths)
        info = run(["dpkg-deb", "-I", self.deb])
        self.assertIn("Package: relayscope", info.stdout)
        self.assertRegex(info.stdout, r"Depends: .*adduser")
        self.assertIn("postinst", info.stdout)
        ctrl = os.path.join(self.dir, "control")
        self.assertEqual(run(["dpkg-deb", "-e", self.deb, ctrl]).returncode, 0)
        with open(os.path.join(ctrl, "conffiles")) as f:
            self.assertIn("/etc/relayscope/relay.toml", f.read())

        root = os.path.join(self.dir, "root")
        x = run(["dpkg", "-x", self.deb, root])
        self.assertEqual(x.returncode, 0, x.stderr)
        binary = os.path.join(root, "usr/bin/relayscope")
        v = run([binary, "--version"])
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertIn("relayscope", v.stdout)
        for page, title in (("man1/relayscope.1.gz", "RELAYSCOPE(1)"),
                            ("man5/relayscope.toml.5.gz", "RELAYSCOPE.TOML(5)")):
            m = run(["man", "-l", os.path.join(root, "usr/share/man", page)],
                    env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual(m.returncode, 0, m.stderr)
            self.assertIn(title, m.stdout)
        # The packaged example configuration is one the relay accepts.
        check = run([binary, "check-config", os.path.join(root, "etc/relayscope/relay.toml")])
        self.assertIn(check.returncode, (0, 2), check.stderr)
        if check.returncode == 2:  # only for want of the system user on this machine
            self.assertIn("no such user 'relayscope'", check.stderr)

        # systemd-analyze verify, with ExecStart at the unpacked binary.
        if shutil.which("systemd-analyze"):
            with open(os.path.join(root, "usr/lib/systemd/system/relayscope.service")) as f:
                unit = f.read()
            self.assertIn("ExecStart=/usr/bin/relayscope relay --config", unit)
            for line in ("NoNewPrivileges=yes", "ProtectSystem=strict",
                         "ReadWritePaths=/var/spool/relayscope /var/mail/relayscope"):
                self.assertIn(line, unit.splitlines())
            scratch = os.path.join(self.dir, "unit")
            os.makedirs(scratch)
            path = os.path.join(scratch, "relayscope.service")
            with open(path, "w") as f:
                f.write(unit.replace("/usr/bin/relayscope", binary))
            v = run(["systemd-analyze", "verify", "--man=no", path])
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
            self.assertNotIn("relayscope.service:", v.stderr)  # no warning on any line
            broken = os.path.join(scratch, "broken", "relayscope.service")
            os.makedirs(os.path.dirname(broken))
            with open(broken, "w") as f:
                f.write(unit.replace("/usr/bin/relayscope", os.path.join(root, "missing")))
            self.assertNotEqual(run(["systemd-analyze", "verify", "--man=no", broken]).returncode,
                                0, "verify must notice a missing ExecStart binary")

    def test_postinst_makes_the_user_and_directories(self):
        # Stand-ins record what the script asks of the system.
        stubs = os.path.join(self.dir, "stubs")
        os.makedirs(stubs)
        calls = os.path.join(self.dir, "calls")
        for name, status in (("getent", 2), ("adduser", 0), ("install", 0), ("systemctl", 0)):
            with open(os.path.join(stubs, name), "w") as f:
                f.write("#!/bin/sh\necho \"%s $*\" >> %s\nexit %d\n" % (name, calls, status))
            os.chmod(os.path.join(stubs, name), 0o755)
        ctrl = os.path.join(self.dir, "control")
        self.assertEqual(run(["dpkg-deb", "-e", self.deb, ctrl]).returncode, 0)
        r = run(["/bin/sh", os.path.join(ctrl, "postinst"), "configure"],
                env={"PATH": stubs + ":/usr/bin:/bin"})
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(calls) as f:
            done = f.read().splitlines()
        self.assertTrue(any(c.startswith("adduser --system --group") and c.endswith(" relayscope")
                            for c in done), done)
        for d in ("/var/spool/relayscope", "/var/mail/relayscope"):
            self.assertIn("install -d -o relayscope -g relayscope -m 0750 " + d, done)


if __name__ == "__main__":
    unittest.main()
