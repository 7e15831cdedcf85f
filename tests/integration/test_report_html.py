# `relayscope report --format html` opened in a real browser (Debian's
# headless Chromium, no network): the page renders its funnel, its outcome
# table and the chart of outcome shares across runs from one self-contained
# file.
import os
import re
import shutil
import subprocess
import unittest

from peers import aiosmtpd, fake_smtp, ports, relayscope
from peers.survey_case import SurveyCase

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps"]


@unittest.skipIf(CHROMIUM is None, "chromium is not installed (scripts/bootstrap installs it)")
class HtmlReportTest(SurveyCase):
    def chromium(self, *args):
        profile = os.path.join(self.dir, "chromium-profile")
        r = subprocess.run([CHROMIUM] + FLAGS + ["--user-data-dir=" + profile] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, text=True)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        return r.stdout

    def test_the_page_shows_funnel_table_and_trend_chart(self):
        open_relay = aiosmtpd.start_aiosmtpd(self, self.dir)
        closed_addr = ports.random_loopback()
        fake_smtp.start_fake_smtp(self, self.dir, [(closed_addr, "relay_denied")],
                                  port=open_relay.port)
        self.start_dns({"open.test": open_relay.addr, "closed.test": closed_addr})
        self.survey(["open.test", "closed.test"], open_relay.port)  # OK 50%, TO 50%
        self.survey(["closed.test"], open_relay.port)               # TO 100%

        page = os.path.join(self.dir, "report.html")
        r = relayscope.report(self.db, "--runs", "all", "--format", "html", "--out", page)
        self.assertEqual(r.returncode, 0, r.describe())
        with open(page) as f:
            source = f.read()
        # Self-contained: nothing fetched from anywhere.
        self.assertNotRegex(source, r"""(?i)(src|href)\s*=\s*["']?(https?:|//)""")

        dom = self.chromium("--dump-dom", "file://" + page)
        self.assertIn("<svg", dom)
        # The trend: one bar per run, the share of each outcome on it.
        self.assertRegex(dom, r"Run 1")
        self.assertRegex(dom, r"Run 2")
        self.assertIn("50.0%", dom)
        self.assertIn("100.0%", dom)
        self.assertGreaterEqual(len(re.findall(r"<rect[^>]*class=\"seg", dom)), 3, dom[:3000])
        # The funnel and the outcome table.
        for word in ("Names", "Resolved hosts", "Sampled", "TO", "OK"):
            self.assertIn(word, dom)

        shot = os.path.join(self.dir, "report.png")
        self.chromium("--screenshot=" + shot, "--window-size=1200,1400", "file://" + page)
        self.assertGreater(os.path.getsize(shot), 10000, "the screenshot is (nearly) blank")


if __name__ == "__main__":
    unittest.main()
