# One name per figure, the IMC's words and order, in every output of a real
# survey: the survey's end-of-run summary, and `report` as text, markdown,
# JSON, CSV and HTML ("unique mail hosts" / unique_hosts; CONNECT, EHLO,
# MAIL, TO, DATA, QUIT, OK); the text report says "Probed", the HTML page
# "Lines without an address"; `report --ci` gives each share's 95% interval.
import csv
import io
import json
import re
import unittest

from peers import fake_smtp, ports, relayscope
from peers.survey_case import OUTCOMES, SurveyCase


class ReportNamesTest(SurveyCase):
    def setUp(self):
        super().setUp()
        open1, closed, dead = ports.distinct_loopbacks(3)
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(open1, "ok"), (closed, "relay_denied")])
        self.start_dns({"open.test": open1, "closed.test": closed, "dead.test": dead})
        # Addresses, one junk line: the funnel has a line without an address.
        self.summary = self.survey(["a@open.test", "b@closed.test", "c@dead.test",
                                    "no address on this line"], fake.port, domains=False).stdout

    def test_the_survey_summary_uses_the_report_words_and_order(self):
        self.assertRegex(self.summary, r"\b3 unique mail hosts\b", self.summary)
        self.assertNotIn("unique domains", self.summary)
        listed = re.findall(r"(?m)^(%s)\s+\d+\s*$" % "|".join(OUTCOMES), self.summary)
        self.assertEqual(listed, ["CONNECT", "TO", "OK"], self.summary)

    def test_every_format_names_the_figures_alike_in_the_imc_order(self):
        text = relayscope.report(self.db).stdout
        self.assertRegex(text, r"(?m)^Unique mail hosts +3$", text)
        self.assertRegex(text, r"(?m)^Probed +3$", text)
        self.assertRegex(text, r"(?m)^Lines without an address +1$", text)
        table = text[text.index("Response     Number"):].split("\n\n")[0]
        rows = re.findall(r"(?m)^(%s) " % "|".join(OUTCOMES), table)
        self.assertEqual(rows, ["CONNECT", "TO", "OK"], text)

        md = relayscope.report(self.db, "--format", "markdown").stdout
        self.assertRegex(md, r"(?m)^\| Unique mail hosts \| 3 \|$", md)
        section = md[md.index("## Outcomes"):].split("\n\n## ")[0]
        self.assertEqual(re.findall(r"(?m)^\| (%s) \|" % "|".join(OUTCOMES), section),
                         ["CONNECT", "TO", "OK"], md)

        raw = relayscope.report(self.db, "--format", "json").stdout
        run = json.loads(raw)["runs"][0]
        self.assertEqual(run["funnel"]["unique_hosts"], 3)
        self.assertNotIn("unique_domains", raw)
        self.assertEqual(list(run["outcomes"]), ["CONNECT", "TO", "OK"])  # key order kept
        self.assertEqual(run["funnel"]["probed"], 3)

        table = list(csv.DictReader(io.StringIO(
            relayscope.report(self.db, "--format", "csv").stdout)))
        funnel = {r["name"]: r["number"] for r in table if r["table"] == "funnel"}
        self.assertEqual(funnel.get("unique_hosts"), "3", funnel)
        self.assertNotIn("unique_domains", funnel)
        self.assertEqual([r["name"] for r in table if r["table"] == "outcome"],
                         ["CONNECT", "TO", "OK"])

        html = relayscope.report(self.db, "--format", "html").stdout
        self.assertIn("Unique mail hosts", html)
        self.assertRegex(html, r"Lines without an address</th><td class=\"n\">1<", html)

    def test_ci_gives_each_share_its_wilson_interval(self):
        text = relayscope.report(self.db, "--ci").stdout
        self.assertIn("95% interval", text)
        # 1 of 3 hosts: Wilson's 95% interval is 6.1% to 79.2%.
        self.assertRegex(text, r"(?m)^OK +1 +33\.3 +6\.1-79\.2$", text)
        plain = relayscope.report(self.db).stdout
        self.assertNotIn("95%", plain)
        run = json.loads(relayscope.report(self.db, "--ci", "--format", "json").stdout)["runs"][0]
        self.assertEqual(run["outcomes"]["OK"]["ci95"], [6.1, 79.2])


if __name__ == "__main__":
    unittest.main()
