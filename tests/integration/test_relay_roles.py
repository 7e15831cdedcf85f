# The relay's listener roles with real clients on loopback (issue 14, 1. and
# 6.): one relay with an mx listener on 25 (as today), submission on 587
# (STARTTLS, AUTH before MAIL: 530 5.7.0; no relaying without AUTH, local
# networks included), submissions on 465 (TLS from the first byte: swaks
# --tlsc, smtplib.SMTP_SSL), and an mx listener behind the PROXY protocol
# (v1 and v2 headers written by the test, from the trusted 127.0.0.9; the
# rules, the log and Received: see the passed address; an untrusted peer or
# a missing header is closed). nmap's smtp-open-relay against every role.
# Ports 25/465/587 (a random 127.x address) need root; otherwise free ports.
import os
import shutil
import smtplib
import socket
import ssl
import struct
import tempfile
import unittest
import uuid

from peers import aiosmtpd, ports, process, relay
from peers.relay import LOCAL_CLIENT, STRANGER, read_reply, wait_closed

PASSWORD = "correct horse battery staple"
PROXY = "127.0.0.9"  # the trusted load balancer
PASSED_STRANGER = "198.51.100.7"  # documentation addresses: passed, never connected


def token():
    return "tok-" + uuid.uuid4().hex


def proxy_v1(source, dest, sport=40000, dport=25):
    return ("PROXY TCP4 %s %s %d %d\r\n" % (source, dest, sport, dport)).encode()


def proxy_v2(source, dest, sport=40000, dport=25, local=False):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if local:
        return sig + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    body = socket.inet_aton(source) + socket.inet_aton(dest) + struct.pack("!HH", sport, dport)
    return sig + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


_SHARED = {}


def _start_peers(extra, cleanup):
    """A sink and a relay with the four listeners; `cleanup` registers stops."""
    d = tempfile.mkdtemp(prefix="relayscope-relay-roles-")
    cleanup(shutil.rmtree, d, True)
    os.chmod(d, 0o755)
    sink = aiosmtpd.Aiosmtpd(d)
    cleanup(sink.stop)
    sink.wait_ready()
    root = os.geteuid() == 0
    r = relay.Relay(d, users={"alice": PASSWORD}, smarthost="%s:%d" % (sink.addr, sink.port),
                    port=25 if root else None,
                    extra='[timeouts]\ngreet_pause = "50ms"\n' + extra)
    addr = r.addr
    out = {"dir": d, "sink": sink, "relay": r, "standard_ports": root,
           "submission": 587 if root else ports.free_port(addr),
           "submissions": 465 if root else ports.free_port(addr),
           "proxied": ports.free_port(addr)}
    with open(r.config, "a") as f:
        f.write('[[listener]]\naddress = "%s:%d"\nrole = "submission"\n'
                '[[listener]]\naddress = "%s:%d"\nrole = "submissions"\n'
                '[[listener]]\naddress = "%s:%d"\nrole = "mx"\nproxy_protocol = true\n'
                'trusted_proxies = ["%s/32"]\n'
                % (addr, out["submission"], addr, out["submissions"], addr, out["proxied"],
                   PROXY))
    cleanup(r.stop)
    r.start()
    return out


class RolesCase(unittest.TestCase):
    EXTRA = ""  # more TOML for the relay

    @classmethod
    def setUpClass(cls):
        # One relay (and sink) for every class that adds nothing to its
        # config: started once for the module, stopped at its end.
        if not cls.EXTRA and _SHARED:
            for k, v in _SHARED.items():
                setattr(cls, k, v)
            return
        peers = _start_peers(cls.EXTRA, unittest.addModuleCleanup if not cls.EXTRA
                             else cls.addClassCleanup)
        if not cls.EXTRA:
            _SHARED.update(peers)
        for k, v in peers.items():
            setattr(cls, k, v)

    def fail_with_log(self, msg):
        self.fail("%s\n%s" % (msg, self.relay.output()))

    def smtp(self, port, source=STRANGER, implicit=False):
        if implicit:
            c = smtplib.SMTP_SSL(self.relay.addr, port, local_hostname="client.example.org",
                                 timeout=20, source_address=(source, 0),
                                 context=self.relay.client_context())
        else:
            c = smtplib.SMTP(self.relay.addr, port, local_hostname="client.example.org",
                             timeout=20, source_address=(source, 0))
        self.addCleanup(c.close)
        return c

    def proxied_session(self, header, source=PROXY):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(20)
        s.bind((source, 0))
        s.connect((self.relay.addr, self.proxied))
        self.addCleanup(s.close)
        s.sendall(header)
        f = s.makefile("rb")
        self.addCleanup(f.close)
        return s, f

    def swaks(self, port, *args, source=STRANGER):
        r = self.relay.swaks("--port", str(port), *args, source=source)
        return r


class SubmissionTest(RolesCase):
    def test_smtplib_mail_before_auth_is_530_then_auth_relays(self):
        t = token()
        c = self.smtp(self.submission)
        c.ehlo()
        self.assertTrue(c.has_extn("starttls"))
        self.assertFalse(c.has_extn("auth"), "AUTH only under TLS")
        c.starttls(context=self.relay.client_context())
        c.ehlo()
        self.assertIn("PLAIN", c.esmtp_features.get("auth", ""))
        code, text = c.mail("alice@example.test")
        self.assertEqual((code, text[:5]), (530, b"5.7.0"), text)
        self.assertIn(b"Authentication required", text)
        c.login("alice", PASSWORD)
        refused = c.sendmail("alice@example.test", ["grace@remote.example.org"],
                             "Subject: %s\r\n\r\nvia submission\r\n" % t)
        self.assertEqual(refused, {})
        c.quit()
        got = self.sink.wait_for(t, timeout=30)
        self.assertIn("with ESMTPSA", got)

    def test_a_local_network_client_does_not_relay_without_auth(self):
        # On 25 this client relays (rule 2); on 587 it must log in first.
        c = self.smtp(self.submission, source=LOCAL_CLIENT)
        c.starttls(context=self.relay.client_context())
        c.ehlo()
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            c.sendmail("alice@example.test", ["victim@remote.example.org"], "Subject: x\r\n\r\nx\r\n")
        self.assertEqual(cm.exception.smtp_code, 530)
        # Nor to a local mailbox: submission takes mail from users only.
        with self.assertRaises(smtplib.SMTPSenderRefused):
            c.sendmail("friend@remote.example.org", ["bob@example.test"], "Subject: x\r\n\r\nx\r\n")

    def test_swaks_starttls_auth_relays_and_without_auth_gets_530(self):
        t = token()
        r = self.swaks(self.submission, "--from", "alice@example.test", "--to",
                       "heidi@remote.example.org", "--header", "Subject: " + t, "--tls",
                       "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", PASSWORD)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("235 2.7.0", r.stdout)
        self.sink.wait_for(t, timeout=30)
        r = self.swaks(self.submission, "--from", "alice@example.test", "--to",
                       "heidi@remote.example.org", "--tls", source=LOCAL_CLIENT)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"> MAIL FROM:<alice@example\.test>\n<\S* +530 5\.7\.0")


class SubmissionsTest(RolesCase):
    def test_smtplib_smtp_ssl_auth_relays_and_mail_before_auth_is_530(self):
        t = token()
        c = self.smtp(self.submissions, implicit=True)
        c.ehlo()
        self.assertFalse(c.has_extn("starttls"), "already TLS")
        self.assertIn("PLAIN", c.esmtp_features.get("auth", ""))
        code, _ = c.mail("alice@example.test")
        self.assertEqual(code, 530)
        c.rset()
        c.login("alice", PASSWORD)
        self.assertEqual(c.sendmail("alice@example.test", ["ivan@remote.example.org"],
                                    "Subject: %s\r\n\r\nvia 465\r\n" % t), {})
        c.quit()
        self.sink.wait_for(t, timeout=30)

    def test_swaks_tlsc_relays_after_auth(self):
        t = token()
        r = self.swaks(self.submissions, "--from", "alice@example.test", "--to",
                       "judy@remote.example.org", "--header", "Subject: " + t, "--tlsc",
                       "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", PASSWORD)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("TLS started", r.stdout)
        self.sink.wait_for(t, timeout=30)

    def test_plain_text_client_gets_no_greeting(self):
        # Implicit TLS: a client speaking SMTP in clear never sees a 220.
        s = socket.create_connection((self.relay.addr, self.submissions), 10,
                                     source_address=(STRANGER, 0))
        self.addCleanup(s.close)
        s.sendall(b"EHLO plain.example.org\r\n")
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        self.assertFalse(got.startswith(b"220"), got)


class MxTest(RolesCase):
    def test_port_25_as_today(self):
        c = self.smtp(self.relay.port, source=LOCAL_CLIENT)
        self.assertEqual(c.sendmail("alice@example.test", ["kim@remote.example.org"],
                                    "Subject: x\r\n\r\nx\r\n"), {})
        c = self.smtp(self.relay.port, source=STRANGER)
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            c.sendmail("spam@spammer.example", ["victim@remote.example.org"], "Subject: x\r\n\r\nx\r\n")


class ProxyTest(RolesCase):
    def rcpt(self, header, rcpt="victim@remote.example.org"):
        s, f = self.proxied_session(header)
        self.assertEqual(read_reply(f)[0], 220)
        for line in ("EHLO client.example.org", "MAIL FROM:<someone@remote.example.org>"):
            s.sendall(line.encode() + b"\r\n")
            self.assertEqual(read_reply(f)[0], 250, line)
        s.sendall(("RCPT TO:<%s>\r\n" % rcpt).encode())
        return read_reply(f), s, f

    def test_v1_and_v2_pass_the_client_address_to_the_rules(self):
        for make in (proxy_v1, proxy_v2):
            # The proxy (127.0.0.9) is a stranger; the client it passes is local.
            (code, lines), s, f = self.rcpt(make(LOCAL_CLIENT, self.relay.addr))
            self.assertEqual(code, 250, (make.__name__, lines))
            (code, lines), s, f = self.rcpt(make(PASSED_STRANGER, self.relay.addr))
            self.assertEqual(code, 554, (make.__name__, lines))
        log = self.relay.log()
        self.assertIn("client=%s via proxy %s" % (PASSED_STRANGER, PROXY), log)
        self.assertIn("client=%s rcpt=" % PASSED_STRANGER, log)

    def test_received_header_names_the_passed_address(self):
        t = token()
        # postmaster@ is a mailbox of every local domain, users file or not.
        (code, _), s, f = self.rcpt(proxy_v2(PASSED_STRANGER, self.relay.addr),
                                    rcpt="postmaster@example.test")
        self.assertEqual(code, 250)
        s.sendall(b"DATA\r\n")
        self.assertEqual(read_reply(f)[0], 354)
        s.sendall(("Subject: %s\r\n\r\nhi\r\n.\r\n" % t).encode())
        self.assertEqual(read_reply(f)[0], 250)
        msg = self.relay.wait_maildir("postmaster@example.test", t)
        self.assertIn("[%s]" % PASSED_STRANGER, msg)
        self.assertNotIn("[%s]" % PROXY, msg)

    def test_local_header_is_served_as_the_proxy_itself(self):
        (code, lines), s, f = self.rcpt(proxy_v2(None, None, local=True))
        self.assertEqual(code, 554, lines)  # 127.0.0.9 is no local network

    def test_untrusted_peer_or_missing_header_is_closed(self):
        s, f = self.proxied_session(proxy_v1(LOCAL_CLIENT, self.relay.addr), source=STRANGER)
        self.assertTrue(wait_closed(s, 20))
        s, f = self.proxied_session(b"EHLO client.example.org\r\n")
        self.assertTrue(wait_closed(s, 20))
        log = self.relay.log()
        self.assertIn("is not a trusted proxy", log)
        self.assertIn("bad PROXY header", log)

    def test_early_talker_check_runs_after_the_header(self):
        s, f = self.proxied_session(proxy_v1(LOCAL_CLIENT, self.relay.addr) +
                                    b"EHLO eager.example.org\r\n")
        code, lines = read_reply(f)
        self.assertEqual(code, 554, lines)


class ProxyCapTest(RolesCase):
    """One connection per client address: behind the proxy, the passed one."""
    EXTRA = "[limits]\nmax_connections_per_ip = 1\n"

    def test_connections_per_address_count_the_passed_address(self):
        s1, f1 = self.proxied_session(proxy_v1(PASSED_STRANGER, self.relay.addr))
        self.assertEqual(read_reply(f1)[0], 220)
        # The same passed client again: over its limit (the proxy's own
        # address is not what counts).
        s2, f2 = self.proxied_session(proxy_v2(PASSED_STRANGER, self.relay.addr))
        code, lines = read_reply(f2)
        self.assertEqual(code, 421, lines)
        # Another client through the same proxy is served.
        s3, f3 = self.proxied_session(proxy_v1(LOCAL_CLIENT, self.relay.addr))
        self.assertEqual(read_reply(f3)[0], 220)


class CheckConfigTest(unittest.TestCase):
    BASE = ('[server]\nlisten = ["127.0.0.1:2525"]\nhostname = "mx.test"\n'
            '[policy]\nlocal_networks = ["127.0.0.2/32"]\nlocal_domains = ["example.test"]\n'
            '[mailboxes]\nroot = "mail"\n[spool]\ndir = "spool"\n'
            '[delivery]\nsmarthost = "127.0.0.1:2601"\n')

    def check(self, extra):
        d = tempfile.mkdtemp(prefix="relayscope-roles-check-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "relay.toml")
        with open(path, "w") as f:
            f.write(self.BASE + extra)
        return process.run([relay.relayscope_bin(), "check-config", path], timeout=60)

    def test_submission_roles_need_tls_and_proxies_need_trusted_proxies(self):
        for role in ("submission", "submissions"):
            r = self.check('[[listener]]\naddress = "127.0.0.1:2587"\nrole = "%s"\n' % role)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn('relay.toml:15: listener.role "%s" needs [tls]' % role, r.stderr)
        r = self.check('[[listener]]\naddress = "127.0.0.1:2526"\nrole = "mx"\n'
                       'proxy_protocol = true\n')
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("listener.trusted_proxies is required when proxy_protocol = true", r.stderr)
        r = self.check('[[listener]]\naddress = "127.0.0.1:2526"\nrole = "mx"\n'
                       'proxy_protocol = true\ntrusted_proxies = ["127.0.0.9/32"]\n')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class NmapTest(RolesCase):
    def test_nmap_smtp_open_relay_on_every_role(self):
        ports_ = [self.relay.port, self.submission, self.submissions]
        argv = ["nmap", "-n", "-Pn", "-p", ",".join(map(str, ports_)), "--script",
                "smtp-open-relay", "--script-args",
                "smtp-open-relay.domain=remote.example.org,smtp-open-relay.ip=%s"
                % self.relay.addr]
        if not self.standard_ports:
            argv += ["-sV", "--version-light"]
        r = process.run(argv + [self.relay.addr], timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("Server is an open relay", r.stdout)
        for p in ports_:
            self.assertRegex(r.stdout, r"(?m)^%d/tcp +open" % p, r.stdout)
        self.assertEqual(r.stdout.count("smtp-open-relay:"), 3, r.stdout)
        # On 25 every relay attempt was refused; on 587 and 465 nmap's
        # script met 530 and says that authentication is needed.
        self.assertEqual(r.stdout.count("Server doesn't seem to be an open relay, all tests "
                                        "failed"), 1, r.stdout)
        self.assertEqual(r.stdout.count("Server isn't an open relay, authentication needed"), 2,
                         r.stdout)


if __name__ == "__main__":
    unittest.main()
