# The queue tools (issue 15.4), as Postfix's postcat/postsuper/postqueue:
# show, delete ID|ALL, hold, release, flush [ID], with the relay running or
# stopped, and the spool never corrupted: a held message is not delivered, a
# released one is, a deleted one never is, and a restarted relay finds the
# spool as the tools left it.
import os
import re
import smtplib
import unittest
import uuid

from peers import aiosmtpd, ports, process, relay
from peers.workdir import make_workdir


def queue(r, *args):
    return process.run([relay.relayscope_bin(), "queue", "--config", r.config] + list(args),
                       timeout=60)


def send(r, token, rcpt="bob@remote.test"):
    """Queues a message (local client to a remote recipient); returns its id."""
    with smtplib.SMTP(r.addr, r.port, source_address=(relay.LOCAL_CLIENT, 0), timeout=20) as s:
        s.ehlo("client.example.org")
        s.mail("alice@example.test")
        s.rcpt(rcpt)
        code, text = s.data("Subject: %s\r\n\r\nbody %s\r\n" % (token, token))
        assert code == 250, (code, text)
        return re.search(r"queued as (\w+)", text.decode()).group(1)


class QueueToolsTest(unittest.TestCase):
    def setUp(self):
        self.dir = make_workdir(self, "relayscope-queue-tools-")
        # The smarthost is not up yet: remote mail waits in the queue.
        self.sink_addr = ports.random_loopback()
        self.sink_port = ports.free_port(self.sink_addr)
        self.relay = relay.Relay(self.dir, tls=False,
                                 smarthost="%s:%d" % (self.sink_addr, self.sink_port),
                                 extra='[timeouts]\ngreet_pause = "0s"\n')
        self.addCleanup(self.relay.stop)
        self.relay.start()

    def start_sink(self):
        sink = aiosmtpd.Aiosmtpd(self.dir, addr=self.sink_addr, port=self.sink_port)
        self.addCleanup(sink.stop)
        sink.wait_ready()
        return sink

    def test_show_prints_envelope_and_message(self):
        t = "tok-" + uuid.uuid4().hex
        qid = send(self.relay, t)
        res = queue(self.relay, "show", qid)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("*** ENVELOPE RECORDS", res.stdout)
        self.assertIn("queue_id: " + qid, res.stdout)
        self.assertIn("sender: alice@example.test", res.stdout)
        self.assertIn("recipient: bob@remote.test", res.stdout)
        self.assertIn("client: " + relay.LOCAL_CLIENT, res.stdout)
        self.assertIn("*** MESSAGE CONTENTS", res.stdout)
        self.assertIn("Subject: " + t, res.stdout)
        self.assertIn("body " + t, res.stdout)
        missing = queue(self.relay, "show", "ABCDEF0123")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no message ABCDEF0123", missing.stderr)
        bad = queue(self.relay, "show", "../../etc/passwd")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("is not a queue id", bad.stderr)

    def test_held_is_not_delivered_and_released_is(self):
        held_token, other_token = "tok-" + uuid.uuid4().hex, "tok-" + uuid.uuid4().hex
        held = send(self.relay, held_token)
        send(self.relay, other_token)
        res = queue(self.relay, "hold", held)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.relay.spool_dir, "hold", held)))
        listing = queue(self.relay, "list").stdout
        self.assertRegex(listing, r"%s .*HELD" % held)
        self.assertIn("1 message in the queue, 1 held", listing)
        sink = self.start_sink()
        self.assertEqual(queue(self.relay, "flush").returncode, 0)
        sink.wait_for(other_token, timeout=30)
        self.relay_log_waits(r"to=<bob@remote.test>.*status=sent")
        self.assertFalse(any(held_token in m for m in sink.messages()))
        res = queue(self.relay, "release", held)
        self.assertEqual(res.returncode, 0, res.stderr)
        sink.wait_for(held_token, timeout=30)
        self.assertIn("released from hold", self.relay.log())

    def relay_log_waits(self, pattern):
        rx = re.compile(pattern)
        ports.wait_until(lambda: rx.search(self.relay.log()), 30, pattern,
                         alive=self.relay.proc.alive)

    def test_deleted_is_never_delivered_even_after_a_restart(self):
        gone, kept = "tok-" + uuid.uuid4().hex, "tok-" + uuid.uuid4().hex
        gone_id = send(self.relay, gone)
        send(self.relay, kept)
        res = queue(self.relay, "delete", gone_id)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertNotIn(gone_id, queue(self.relay, "list").stdout)
        # Restarted on the same spool, with the smarthost up: only the other one goes.
        self.relay.stop()
        sink = self.start_sink()
        self.relay.start()
        sink.wait_for(kept, timeout=30)
        self.assertFalse(any(gone in m for m in sink.messages()))
        self.assertEqual(os.listdir(os.path.join(self.relay.spool_dir, "corrupt"))
                         if os.path.isdir(os.path.join(self.relay.spool_dir, "corrupt")) else [],
                         [])

    def test_tools_work_with_the_relay_stopped(self):
        ids = [send(self.relay, "tok-" + uuid.uuid4().hex) for _ in range(3)]
        self.relay.stop()
        self.assertEqual(queue(self.relay, "hold", ids[0]).returncode, 0)
        self.assertEqual(queue(self.relay, "show", ids[0]).returncode, 0)
        flush = queue(self.relay, "flush")
        self.assertEqual(flush.returncode, 1)  # nothing runs to flush
        res = queue(self.relay, "delete", "ALL")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("deleted 3 messages", res.stdout)
        self.assertIn("0 messages in the queue", queue(self.relay, "list").stdout)
        self.relay.start()
        self.assertRegex(self.relay.log(), r"spool: 0 messages in the queue")


if __name__ == "__main__":
    unittest.main()
