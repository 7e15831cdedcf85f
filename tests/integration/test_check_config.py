# check-config is the relay's own start-up check minus binding (issue 15.1):
# what `relay` would refuse is an error with its file and line (exit 2), and
# the relay refuses it too with the same words; what opens the relay or looks
# like a mistake is a warning (exit 0).
import os
import pwd
import re
import unittest

from peers import process, relay
from peers.workdir import make_workdir


def check(config):
    return process.run([relay.relayscope_bin(), "check-config", config], timeout=60)


def line_of(path, needle):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if needle in line:
                return n
    raise AssertionError("%r not in %s" % (needle, path))


class CheckConfigTest(unittest.TestCase):
    def make(self, users=None, user=None, tls=True):
        d = make_workdir(self, "relayscope-check-config-")
        r = relay.Relay(d, users=users, tls=tls, user=user)
        return r

    def edit(self, r, old, new):
        with open(r.config) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(r.config, "w") as f:
            f.write(text.replace(old, new, 1))

    def expect_error(self, r, pattern):
        res = check(r.config)
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        self.assertRegex(res.stderr, pattern)
        self.assertNotIn("ok", res.stdout)
        return res

    def test_a_good_config_is_ok_without_warnings(self):
        r = self.make(users={"alice": "correct horse battery"},
                      user="nobody" if os.geteuid() == 0 else None)
        if os.geteuid() == 0:
            os.chown(r.users_file, pwd.getpwnam("nobody").pw_uid, -1)
        res = check(r.config)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.strip(), "ok")
        self.assertEqual(res.stderr, "")

    def test_duplicate_listener_is_named_and_the_relay_refuses_it_too(self):
        r = self.make()
        listen = "%s:%d" % (r.addr, r.port)
        self.edit(r, 'listen = ["%s"]' % listen, 'listen = ["%s",\n  "%s"]' % (listen, listen))
        line = line_of(r.config, "listen") + 1
        res = self.expect_error(r, r"%s:%d: server.listen: %s is listed twice" %
                                (re.escape(r.config), line, re.escape(listen)))
        # The relay runs the same check before binding anything.
        run = process.run([relay.relayscope_bin(), "relay", "--config", r.config], timeout=60)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn(res.stderr.strip().splitlines()[-1], run.stderr)

    def test_key_that_does_not_match_the_certificate(self):
        r = self.make()
        other = os.path.join(r.workdir, "other.key")
        gen = process.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                           "rsa_keygen_bits:2048", "-out", other], timeout=60)
        self.assertEqual(gen.returncode, 0, gen.stderr)
        self.edit(r, 'key = "%s"' % r.key, 'key = "%s"' % other)
        line = line_of(r.config, "key =")
        self.expect_error(r, r"%s:%d: tls.key %s: it does not match tls.cert" %
                          (re.escape(r.config), line, re.escape(other)))

    def test_users_file_that_does_not_exist(self):
        r = self.make(users={"alice": "correct horse battery"})
        os.unlink(r.users_file)
        line = line_of(r.config, "users_file")
        self.expect_error(r, r"%s:%d: auth.users_file: no such file: %s" %
                          (re.escape(r.config), line, re.escape(r.users_file)))

    def test_malformed_users_file(self):
        r = self.make(users={"alice": "correct horse battery"})
        with open(r.users_file, "a") as f:
            f.write("this line has no hash\n")
        self.expect_error(r, r"auth.users_file: .*")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to start as root and drop to nobody")
    def test_users_file_the_unprivileged_user_cannot_read(self):
        r = self.make(users={"alice": "correct horse battery"}, user="nobody")
        os.chown(r.users_file, 0, 0)
        os.chmod(r.users_file, 0o600)
        self.expect_error(r, r"auth.users_file: %s is not readable by nobody" %
                          re.escape(r.users_file))
        os.chown(r.users_file, pwd.getpwnam("nobody").pw_uid, 0)
        self.assertEqual(check(r.config).returncode, 0)

    def test_open_and_mistaken_networks_are_warnings(self):
        r = self.make(tls=False)
        self.edit(r, 'local_networks = ["%s/32"]' % relay.LOCAL_CLIENT,
                  'local_networks = ["%s/32",\n  "0.0.0.0/0",\n  "::/0",\n  "127.99.0.21/24"]'
                  % relay.LOCAL_CLIENT)
        first = line_of(r.config, "local_networks")
        res = check(r.config)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.strip(), "ok")
        c = re.escape(r.config)
        self.assertRegex(res.stderr, r"%s:%d: warning: policy.local_networks: 0.0.0.0/0 .*open relay"
                         % (c, first + 1))
        self.assertRegex(res.stderr, r"%s:%d: warning: policy.local_networks: ::/0 .*open relay"
                         % (c, first + 2))
        self.assertRegex(res.stderr, r"%s:%d: warning: .*127.99.0.21/24 has host bits set; "
                         r"it means 127.99.0.0/24" % (c, first + 3))

    @unittest.skipUnless(os.geteuid() == 0, "the warning is for a relay started as root")
    def test_root_without_user_is_a_warning(self):
        r = self.make(tls=False)
        res = check(r.config)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("warning: server.user is not set", res.stderr)
        # The relay says the same in its log when started so.
        r.start()
        self.addCleanup(r.stop)
        self.assertIn("server.user is not set", r.log())


if __name__ == "__main__":
    unittest.main()
