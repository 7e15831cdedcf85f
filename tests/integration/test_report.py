# relayscope report on real survey results (light): the IMC table of one run,
# several runs side by side as { a, b }, the funnel, and the other formats.
import csv
import io
import json
import os
import re
import unittest

from peers import fake_smtp, ports, relayscope
from peers.survey_case import SurveyCase

HEADER = "Response     Number     Percent"


class ReportTest(SurveyCase):
    def run_id(self, result, fallback):
        m = re.search(r"\brun (\d+)\b", result.stdout)
        return m.group(1) if m else str(fallback)

    def test_tables_of_one_and_two_runs(self):
        open1, closed, open2, dead = ports.distinct_loopbacks(4)
        fake = fake_smtp.start_fake_smtp(
            self, self.dir, [(open1, "ok"), (closed, "relay_denied"), (open2, "ok")])
        self.start_dns({"open.test": open1, "closed.test": closed, "open2.test": open2,
                        "dead.test": dead})
        first = self.run_id(self.survey(["open.test", "closed.test", "dead.test"], fake.port,
                                        extra=["--label", "first"]), 1)
        second = self.run_id(self.survey(["open.test", "open2.test"], fake.port,
                                         extra=["--label", "second"]), 2)
        self.assertNotEqual(first, second)

        one = relayscope.report(self.db, "--runs", first)
        self.assertEqual(one.returncode, 0, one.describe())
        self.assertIn(HEADER, one.stdout)
        for outcome in ("CONNECT", "TO", "OK"):
            self.assertRegex(one.stdout, r"(?m)^%s +1 +33\.3 *$" % outcome)
        self.assertNotRegex(one.stdout, r"(?m)^(EHLO|MAIL|DATA|QUIT) +[1-9]")
        # The funnel comes before the table and counts the 3 sampled hosts.
        funnel = one.stdout[: one.stdout.index(HEADER)]
        sampled = [l for l in funnel.splitlines() if "sampled" in l.lower()]
        self.assertTrue(sampled and re.search(r"\b3\b", sampled[0]),
                        "no funnel line with 3 sampled hosts:\n" + one.stdout)

        for runs in ("%s,%s" % (first, second), "all"):
            both = relayscope.report(self.db, "--runs", runs)
            self.assertEqual(both.returncode, 0, both.describe())
            self.assertIn(HEADER, both.stdout)
            self.assertRegex(both.stdout, r"(?m)^OK +\{ 1, 2 \} +\{ 33\.3, 100\.0 \} *$")
            self.assertRegex(both.stdout, r"(?m)^TO +\{ 1, 0 \} +\{ 33\.3, 0\.0 \} *$")
            self.assertRegex(both.stdout, r"(?m)^CONNECT +\{ 1, 0 \} +\{ 33\.3, 0\.0 \} *$")

        # The other formats are well-formed, and --out writes to a file.
        j = relayscope.report(self.db, "--runs", "all", "--format", "json")
        self.assertEqual(j.returncode, 0, j.describe())
        json.loads(j.stdout)
        c = relayscope.report(self.db, "--runs", first, "--hosts", "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(c.stdout)))
        self.assertEqual(sorted(r["domain"] for r in rows), ["closed.test", "dead.test", "open.test"])
        md = relayscope.report(self.db, "--runs", first, "--format", "markdown")
        self.assertEqual(md.returncode, 0, md.describe())
        self.assertRegex(md.stdout, r"(?m)^\|.*OK.*\|")
        out = os.path.join(self.dir, "report.html")
        html = relayscope.report(self.db, "--runs", "all", "--format", "html", "--out", out)
        self.assertEqual(html.returncode, 0, html.describe())
        with open(out) as f:
            self.assertIn("<table", f.read().lower())

    def test_unknown_run_is_a_clear_error(self):
        addr = ports.random_loopback()
        fake = fake_smtp.start_fake_smtp(self, self.dir, [(addr, "ok")])
        self.start_dns({"only.test": addr})
        self.survey(["only.test"], fake.port)
        r = relayscope.report(self.db, "--runs", "999")
        self.assertNotEqual(r.returncode, 0, r.describe())
        self.assertIn("999", r.stderr)
        self.assertLessEqual(len(r.stderr.strip().splitlines()), 3, r.stderr)


if __name__ == "__main__":
    unittest.main()
