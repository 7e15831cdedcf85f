# relayscope survey against real Postfix instances on loopback: a closed one
# (the prober's 127.0.0.1 outside mynetworks) refuses at RCPT TO with 554
# 5.7.1; an open one relays, and the test message reaches its smtp-sink.
import os
import re
import unittest

from peers import ports, postfix, relayscope
from peers.survey_case import SurveyCase


@unittest.skipUnless(os.geteuid() == 0, "a private Postfix needs root")
class PostfixSurveyTest(SurveyCase):
    timeout = 10

    def test_closed_and_open_postfix(self):
        closed_addr, open_addr = ports.distinct_loopbacks(2)
        port = ports.free_port_all([closed_addr, open_addr])
        closed = postfix.start_postfix(self, self.dir + "/closed", addr=closed_addr, port=port,
                                       mynetworks="127.0.0.2/32", hostname="mx.closed.test")
        opened = postfix.start_postfix(self, self.dir + "/open", addr=open_addr, port=port,
                                       mynetworks="127.0.0.0/8", hostname="mx.open.test")
        self.start_dns({"closed.test": closed.addr, "open.test": opened.addr})
        self.survey(["closed.test", "open.test"], port)

        rows = self.host_rows()
        self.assertEqual(rows["closed.test"]["ip"], closed.addr)
        self.assertOutcome(rows["closed.test"], "TO", 554)
        self.assertOutcome(rows["open.test"], "OK")

        # The 554 5.7.1 line is in the stored transcript.
        hosts = {h.get("ip"): h for h in relayscope.hosts_json(self.db)}
        self.assertIn(closed.addr, hosts, "report --hosts --format json lacks the closed host")
        lines = relayscope.transcript_lines(hosts[closed.addr])
        self.assertTrue(lines, "report --hosts --format json has no transcript for %s: %r" % (
            closed.addr, hosts[closed.addr]))
        self.assertTrue(any(re.search(r"554[ -]5\.7\.1", l) for l in lines),
                        "no 554 5.7.1 line in the transcript:\n" + "\n".join(lines))
        self.assertIn("reject: RCPT from", closed.log())

        # The open Postfix relayed the test message to its sink, token intact:
        # in the body, the Message-ID and the envelope sender (VERP tag).
        token = rows["open.test"].get("token", "")
        self.assertTrue(token, "report --hosts csv gives no token: %r" % rows["open.test"])
        msg = opened.sink.wait_for(token, timeout=30)
        head, body = re.split(r"\r?\n\r?\n", msg, maxsplit=1)
        self.assertIn(token, body)
        self.assertRegex(head, r"(?im)^message-id:.*%s" % re.escape(token))
        self.assertRegex(head, r"(?im)^x-mail-args:.*%s" % re.escape(token))
        self.assertEqual(closed.sink.messages(), [], "the closed Postfix relayed something")


if __name__ == "__main__":
    unittest.main()
