# Postfix-like log lines read back from the relay's log file and the
# collector's log: a NOQUEUE: reject: line (from=, to=, proto=, helo=) for a
# syntax error and for a relay refusal, a delivery line with delay= and
# dsn= and the remote's reply first in status=sent (...), the queue id on
# every line of the message, and one line per collector arrival.
import os
import re
import smtplib
import socket
import unittest
import uuid

from peers import ports, process, relayscope, workdir
from peers.relay_delivery import LOCAL_CLIENT, STRANGER, DeliveryRelay
from peers.relay_delivery_sink import start_sink


def talk(addr, port, lines, source=STRANGER):
    """Sends each line after the previous reply; the replies' last lines."""
    s = socket.create_connection((addr, port), timeout=10, source_address=(source, 0))
    f = s.makefile("rb")
    replies = []

    def reply():
        while True:
            line = f.readline().decode("ascii", "replace").rstrip("\r\n")
            if not line or line[3:4] != "-":
                return line
    replies.append(reply())
    for line in lines:
        s.sendall(line.encode() + b"\r\n")
        replies.append(reply())
    s.close()
    return replies


class LogLinesTest(unittest.TestCase):
    def setUp(self):
        self.dir = workdir.make_workdir(self, "relayscope-loglines-")

    def test_the_relays_log_file_has_postfix_lines(self):
        sink = start_sink(self, self.dir)
        relay = DeliveryRelay(self.dir, delivery={"smarthost": "%s:%d" % (sink.addr, sink.port),
                                                  "retry": ["1s"]})
        log_file = os.path.join(self.dir, "relay.log")
        with open(relay.config, "a") as f:
            f.write('[log]\nto = "file"\nfile = "%s"\n' % log_file)
        self.addCleanup(relay.stop)
        relay.start()

        def log():
            try:
                with open(log_file, errors="replace") as f:
                    return f.read()
            except FileNotFoundError:
                return ""

        def wait_log(pattern):
            rx = re.compile(pattern, re.M)
            return ports.wait_until(lambda: rx.search(log()), 30, "%r in the log file" % pattern,
                                    interval=0.05, alive=relay.proc.alive)

        # A syntax error, then a relay refusal: replies unchanged, one line each.
        replies = talk(relay.addr, relay.port, [
            "EHLO client.example.org", "MAIL FROM:<bob@example.org>", "RCPT TO:<bad address",
            "RCPT TO:<carol@elsewhere.example>", "QUIT"])
        self.assertTrue(replies[3].startswith("501 5.1.3"), replies)
        self.assertTrue(replies[4].startswith("554 5.7.1"), replies)
        syntax = wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 501 5\.1\.3 .*; "
                          r"from=<bob@example\.org> to=<bad address> proto=ESMTP "
                          r"helo=<client\.example\.org>$")
        self.assertTrue(syntax)
        wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 "
                 r"<carol@elsewhere\.example>: Relay access denied; from=<bob@example\.org> "
                 r"to=<carol@elsewhere\.example> proto=ESMTP helo=<client\.example\.org>$")
        # A syntax error before any MAIL: from=<> and the verb as the stage.
        replies = talk(relay.addr, relay.port, ["HELO client.example.org", "MAIL FROM:<<x>>",
                                                 "QUIT"])
        self.assertTrue(replies[2].startswith("501"), replies)
        wait_log(r"NOQUEUE: reject: MAIL from unknown\[127\.0\.0\.1\]: 501 .* proto=SMTP "
                 r"helo=<client\.example\.org>$")

        # A delivery through the smarthost: delay=, delays=, dsn=, the remote's reply first.
        token = "tok-" + uuid.uuid4().hex
        self.assertEqual(relay.send("alice@example.test", ["bob@remote.test"], "body " + token,
                                    source=LOCAL_CLIENT), {})
        sink.wait_for(token)
        m = wait_log(r"^.*?([0-9A-Za-z]+): to=<bob@remote\.test>, relay=\S+, delay=([0-9.]+), "
                     r"delays=([0-9.]+)/([0-9.]+)/0/([0-9.]+), "
                     r"dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: kept as \d+\)$")
        queue_id = m.group(1)
        # Postfix's four parts add up to delay= (each rounded to two digits,
        # parts under 10 ms written 0); connection setup is counted in the last.
        delay = float(m.group(2))
        parts = [float(x) for x in m.group(3, 4, 5)]
        self.assertLessEqual(abs(sum(parts) - delay), 0.05 * delay + 0.04, m.group(0))
        # The queue id on every line of the message.
        lines = [l for l in log().splitlines() if queue_id in l]
        self.assertTrue(any(queue_id + ": client=" in l for l in lines), lines)
        self.assertTrue(any(queue_id + ": from=<alice@example.test>" in l for l in lines), lines)
        for l in lines:
            self.assertRegex(l, r"\b%s: " % re.escape(queue_id))

    def test_the_collector_logs_each_arrival_and_its_refusals(self):
        addr = ports.random_loopback()
        port = ports.free_port(addr)
        p = process.Process([relayscope.binary(), "collect", "--listen", "%s:%d" % (addr, port),
                             "--domain", "collector.test", "--db", os.path.join(self.dir, "c.db")],
                            self.dir, "collect")
        self.addCleanup(p.stop)
        ports.wait_for_port(addr, port, 15, alive=p.alive)

        def log():
            with open(p.stderr_path, errors="replace") as f:
                return f.read()

        def wait_log(pattern):
            rx = re.compile(pattern, re.M)
            return ports.wait_until(lambda: rx.search(log()), 30, "%r in the collector's log"
                                    % pattern, interval=0.05, alive=p.alive)

        with smtplib.SMTP(addr, port, timeout=10) as s:
            s.sendmail("someone@example.org", ["relay-test@collector.test"],
                       "Subject: hello\r\n\r\nno token here\r\n")
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                s.sendmail("someone@example.org", ["x@elsewhere.example"], "Subject: x\r\n\r\nx\r\n")
        m = wait_log(r"(\S+): collect: token=-, probe=-, run=-, result=unmatched, "
                     r"from=<someone@example\.org>, client=\[%s\]$" % re.escape(STRANGER))
        self.assertTrue(m)
        wait_log(r"NOQUEUE: reject: RCPT from unknown\[%s\]: 554 5\.7\.1 <x@elsewhere\.example>: "
                 r"Relay access denied; from=<someone@example\.org> to=<x@elsewhere\.example> "
                 r"proto=ESMTP helo=<\S+>$" % re.escape(STRANGER))
        self.assertEqual(len(re.findall(r"collect: token=", log())), 1, "one line per arrival")


if __name__ == "__main__":
    unittest.main()
