# SIGHUP as Postfix's reload (issue 15.2): the whole configuration is read
# again and applied at once; a bad file is reported and the running one kept;
# what needs a restart is named in the log and left as it was; the log file
# is reopened (logrotate's mv); the users file is re-read as the user the
# relay dropped to.
import os
import pwd
import re
import signal
import smtplib
import unittest

from peers import ports, process, relay
from peers.workdir import make_workdir

THIRD = "127.0.0.3"  # not local at first


def rcpt_code(r, source, rcpt="bob@remote.test"):
    with smtplib.SMTP(r.addr, r.port, source_address=(source, 0), timeout=20) as s:
        s.ehlo("client.example.org")
        s.mail("a@example.org")
        code, _ = s.rcpt(rcpt)
        s.rset()
        return code


class ReloadTest(unittest.TestCase):
    def start(self, **kw):
        d = make_workdir(self, "relayscope-reload-")
        r = relay.Relay(d, **kw)
        self.addCleanup(r.stop)
        r.start()
        return r

    def edit(self, r, old, new):
        with open(r.config) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(r.config, "w") as f:
            f.write(text.replace(old, new, 1))

    def hup_and_wait(self, r, pattern, logfile=None):
        count = len(re.findall(pattern, self.log(r, logfile)))
        os.kill(r.proc.pid, signal.SIGHUP)
        ports.wait_until(lambda: len(re.findall(pattern, self.log(r, logfile))) > count, 20,
                         "%r in the log" % pattern, alive=r.proc.alive)

    def log(self, r, logfile=None):
        if logfile:
            try:
                with open(logfile, errors="replace") as f:
                    return f.read()
            except FileNotFoundError:
                return ""
        return r.log()

    def test_changed_local_networks_apply_without_restart(self):
        r = self.start(tls=False)
        self.assertEqual(rcpt_code(r, THIRD), 554)
        self.edit(r, '"%s/32"]' % relay.LOCAL_CLIENT,
                  '"%s/32", "%s/32"]' % (relay.LOCAL_CLIENT, THIRD))
        self.hup_and_wait(r, r"reload: done")
        self.assertEqual(rcpt_code(r, THIRD), 250, r.output())
        # And taking it out again closes it again.
        self.edit(r, ', "%s/32"]' % THIRD, "]")
        self.hup_and_wait(r, r"reload: done")
        self.assertEqual(rcpt_code(r, THIRD), 554)

    def test_a_bad_file_is_reported_and_the_running_one_kept(self):
        r = self.start(tls=False)
        self.edit(r, '"%s/32"]' % relay.LOCAL_CLIENT,
                  '"%s/32", "%s/32"]\nbogus_key = 1' % (relay.LOCAL_CLIENT, THIRD))
        self.hup_and_wait(r, r"running configuration is kept")
        self.assertRegex(r.log(), r"reload: .*relay.toml:\d+: unknown key policy.bogus_key")
        # Nothing of the bad file was applied: 127.0.0.3 is still a stranger.
        self.assertEqual(rcpt_code(r, THIRD), 554)
        self.assertEqual(rcpt_code(r, relay.LOCAL_CLIENT), 250)

    def test_listeners_need_a_restart_and_say_so(self):
        r = self.start(tls=False)
        other = ports.free_port(r.addr)
        self.edit(r, ':%d"]' % r.port, ':%d"]' % other)
        self.hup_and_wait(r, r"server.listen: .*needs a restart; kept as it was")
        self.assertEqual(rcpt_code(r, relay.LOCAL_CLIENT), 250)
        self.assertFalse(ports.port_accepts(r.addr, other))

    def test_the_log_file_is_reopened_after_logrotate_moved_it(self):
        d = make_workdir(self, "relayscope-reload-log-")
        logfile = os.path.join(d, "relay.log")
        r = relay.Relay(d, tls=False, extra='[log]\nto = "file"\nfile = "%s"\n' % logfile)
        self.addCleanup(r.stop)
        r.start()
        self.assertIn("listening on", self.log(r, logfile))
        os.rename(logfile, logfile + ".1")
        os.kill(r.proc.pid, signal.SIGHUP)
        ports.wait_until(lambda: "reload: done" in self.log(r, logfile), 20,
                         "a new log file with the reload in it", alive=r.proc.alive)
        self.assertEqual(rcpt_code(r, relay.LOCAL_CLIENT), 250)
        with open(logfile + ".1") as f:
            self.assertNotIn("reload: done", f.read())

    @unittest.skipUnless(os.geteuid() == 0, "needs root to drop to nobody")
    def test_the_log_file_is_reopened_by_the_unprivileged_user(self):
        d = make_workdir(self, "relayscope-reload-log-user-")
        logs = os.path.join(d, "logs")
        os.mkdir(logs)
        nobody = pwd.getpwnam("nobody")
        os.chown(logs, nobody.pw_uid, nobody.pw_gid)
        logfile = os.path.join(logs, "relay.log")
        r = relay.Relay(d, tls=False, user="nobody",
                        extra='[log]\nto = "file"\nfile = "%s"\n' % logfile)
        self.addCleanup(r.stop)
        r.start()
        # Not rotated: the file made at start (as root) is reopened by nobody.
        self.hup_and_wait(r, r"reload: done", logfile)
        self.assertNotIn("logging as before", self.log(r, logfile))
        self.assertEqual(os.stat(logfile).st_uid, nobody.pw_uid)
        os.rename(logfile, logfile + ".1")
        os.kill(r.proc.pid, signal.SIGHUP)
        ports.wait_until(lambda: "reload: done" in self.log(r, logfile), 20,
                         "a new log file, made by nobody", alive=r.proc.alive)
        self.assertEqual(os.stat(logfile).st_uid, nobody.pw_uid)
        # Rotated again: the file the relay made itself is reopened too.
        os.rename(logfile, logfile + ".2")
        os.kill(r.proc.pid, signal.SIGHUP)
        ports.wait_until(lambda: "reload: done" in self.log(r, logfile), 20,
                         "a second new log file", alive=r.proc.alive)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to drop to nobody")
    def test_users_file_is_reread_as_the_unprivileged_user(self):
        d = make_workdir(self, "relayscope-reload-users-")
        users = os.path.join(d, "users")
        relay.add_user(users, "alice", "correct horse battery")
        nobody = pwd.getpwnam("nobody")
        os.chown(users, nobody.pw_uid, nobody.pw_gid)
        os.chmod(users, 0o600)
        r = relay.Relay(d, tls=True, user="nobody")
        with open(r.config, "a") as f:
            f.write('[auth]\nusers_file = "%s"\n' % users)
        self.addCleanup(r.stop)
        r.start()
        # passwd, run as root, keeps the file nobody's (issue: it made it root:root).
        relay.add_user(users, "bob", "another good password")
        st = os.stat(users)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (nobody.pw_uid, 0o600))
        self.hup_and_wait(r, r"reload: users file .* re-read: 2 users")
        self.assertNotIn("not re-read", r.log())
        with smtplib.SMTP(r.addr, r.port, timeout=20) as s:
            s.ehlo("client.example.org")
            s.starttls(context=r.client_context())
            s.ehlo("client.example.org")
            s.login("bob", "another good password")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to drop to nobody")
    def test_a_new_low_port_after_dropping_root_is_named(self):
        r = self.start(tls=False, user="nobody")
        self.edit(r, ':%d"]' % r.port, ':%d", "%s:25"]' % (r.port, r.addr))
        self.hup_and_wait(r, r"new port below 1024 \(%s:25\) needs root" % re.escape(r.addr))
        self.assertEqual(rcpt_code(r, relay.LOCAL_CLIENT), 250)


if __name__ == "__main__":
    unittest.main()
