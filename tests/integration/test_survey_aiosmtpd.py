# relayscope survey against Python's aiosmtpd, a permissive server: outcome
# OK, and the test message arrives carrying the probe's token.
import re
import unittest

from peers import aiosmtpd
from peers.survey_case import SurveyCase


class AiosmtpdSurveyTest(SurveyCase):
    def test_permissive_server_is_ok_and_gets_the_message(self):
        server = aiosmtpd.start_aiosmtpd(self, self.dir)
        self.start_dns({"permissive.test": server.addr})
        self.survey(["permissive.test"], server.port)
        row = self.host_rows()["permissive.test"]
        self.assertEqual(row["ip"], server.addr)
        self.assertOutcome(row, "OK")
        token = row.get("token", "")
        self.assertTrue(token, "report --hosts csv gives no token: %r" % row)
        msg = server.wait_for(token)
        head, body = re.split(r"\r?\n\r?\n", msg, maxsplit=1)
        self.assertIn(token, body)
        self.assertRegex(head, r"(?im)^message-id:.*%s" % re.escape(token))
        # aiosmtpd's Mailbox handler records the envelope sender: the VERP tag.
        self.assertRegex(head, r"(?im)^x-mailfrom:.*%s" % re.escape(token))
        self.assertRegex(head, r"(?im)^subject: *relay test")


if __name__ == "__main__":
    unittest.main()
