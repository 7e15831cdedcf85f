# `--metrics ADDR:PORT` scraped with curl, as Prometheus would: the collector
# counts its sessions and arrivals, the relay its sessions, messages
# accepted and refused by reason, its queue and its deliveries; anything
# but GET (or HEAD) /metrics is refused; bad ADDR:PORT is a usage error.
import os
import re
import smtplib
import subprocess
import unittest

from peers import ports, process, relay, relayscope, workdir

CURL = "/usr/bin/curl"


def scrape(where, *args):
    """curl's status line and body for http://where/metrics (or args' URL)."""
    url = "http://%s/metrics" % where
    argv = [CURL, "--silent", "--show-error", "--max-time", "10", "--noproxy", "*",
            "--write-out", "\n%{http_code} %{content_type}"] + list(args) + [url]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("curl failed: %s" % r.stderr)
    body, _, status = r.stdout.rpartition("\n")
    return status, body


def sample(body, series):
    """The value of one series (name{labels}) in an exposition, or None."""
    m = re.search(r"(?m)^%s (\S+)$" % re.escape(series), body)
    return float(m.group(1)) if m else None


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self)
        self.maddr = ports.random_loopback()
        self.mport = ports.free_port(self.maddr)
        self.where = "%s:%d" % (self.maddr, self.mport)

    def test_the_collector_counts_its_arrivals(self):
        addr = ports.random_loopback()
        port = ports.free_port(addr)
        p = process.Process([relayscope.binary(), "collect", "--listen", "%s:%d" % (addr, port),
                             "--domain", "collector.test", "--db", os.path.join(self.dir, "r.db"),
                             "--metrics", self.where], self.dir, "collect")
        self.addCleanup(p.stop)
        ports.wait_for_port(addr, port, 15, alive=p.alive)
        ports.wait_for_port(self.maddr, self.mport, 15, alive=p.alive)

        status, body = scrape(self.where)
        self.assertEqual(status, "200 text/plain; version=0.0.4; charset=utf-8", body)
        self.assertIn("# TYPE relayscope_collect_arrivals_total counter", body)
        self.assertEqual(sample(body, 'relayscope_collect_arrivals_total{kind="unmatched"}'), 0)

        # A message that names no probe: kept, counted as unmatched.
        with smtplib.SMTP(addr, port, timeout=10) as s:
            s.sendmail("someone@example.org", ["relay-test@collector.test"],
                       "Subject: hello\r\n\r\nno token here\r\n")
        _, body = scrape(self.where)
        self.assertEqual(sample(body, 'relayscope_collect_arrivals_total{kind="unmatched"}'), 1,
                         body)
        self.assertEqual(sample(body, "relayscope_collect_sessions"), 0, body)
        for line in body.splitlines():
            if line and not line.startswith("#"):
                self.assertTrue(line.startswith("relayscope_"), line)

        # Only GET (and HEAD) /metrics.
        self.assertEqual(scrape(self.where, "--request", "POST")[0][:3], "405")
        self.assertEqual(scrape(self.where + "/x")[0][:3], "404")
        self.assertEqual(scrape(self.where, "--head")[0][:3], "200")

    def test_the_relay_counts_sessions_messages_and_deliveries(self):
        r = relay.Relay(self.dir, users={"alice": "correct horse"})
        self.addCleanup(r.stop)
        r.proc = process.Process([relayscope.binary(), "relay", "--config", r.config,
                                  "--metrics", self.where], r.workdir, "relay")
        ports.wait_until(r._listening, 20, "the relay to listen", alive=r.proc.alive)
        ports.wait_for_port(self.maddr, self.mport, 15, alive=r.proc.alive)

        _, body = scrape(self.where)
        for series in ('relayscope_relay_messages_total{result="accepted"}',
                       'relayscope_relay_messages_total{reason="relay_denied",result="refused"}',
                       'relayscope_relay_deliveries_total{result="sent"}',
                       "relayscope_relay_queue_messages", "relayscope_relay_sessions_total"):
            self.assertEqual(sample(body, series), 0, series + "\n" + body)

        # A stranger to a local mailbox: accepted and delivered (Maildir).
        ok = r.swaks("--to", "alice@example.test", "--from", "bob@example.org")
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        r.wait_maildir("alice@example.test", "Subject")
        # A stranger to a remote mailbox: refused, relay denied.
        no = r.swaks("--to", "carol@elsewhere.example", "--from", "bob@example.org")
        self.assertNotEqual(no.returncode, 0)

        def delivered():
            b = scrape(self.where)[1]
            return b if sample(b, 'relayscope_relay_deliveries_total{result="sent"}') == 1 else None
        body = ports.wait_until(delivered, 20, "the delivery counted", alive=r.proc.alive)
        self.assertEqual(sample(body, 'relayscope_relay_messages_total{result="accepted"}'), 1)
        self.assertEqual(sample(
            body, 'relayscope_relay_messages_total{reason="relay_denied",result="refused"}'), 1)
        self.assertEqual(sample(body, "relayscope_relay_sessions_total"), 2, body)
        self.assertEqual(sample(body, "relayscope_relay_queue_messages"), 0, body)

    def test_a_bad_address_is_a_usage_error(self):
        for argv in (["collect", "--listen", "127.0.0.1:0", "--domain", "c.test", "--db",
                      os.path.join(self.dir, "x.db"), "--metrics", "localhost:9100"],
                     ["collect", "--listen", "127.0.0.1:0", "--domain", "c.test", "--db",
                      os.path.join(self.dir, "x.db"), "--metrics", "127.0.0.1"]):
            r = relayscope.run(argv, timeout=30)
            self.assertEqual(r.returncode, 2, r.describe())
            self.assertIn("--metrics", r.stderr)


if __name__ == "__main__":
    unittest.main()
