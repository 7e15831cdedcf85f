# `relayscope report --format html` opened in a real browser (Debian's
# headless Chromium, no network): the page renders its funnel, its outcome
# table and the chart of outcome shares across runs from one self-contained
# file; the trend spans the page and stays readable for 2 and for 12 runs;
# the variants have their table and chart; the --hosts page sorts and
# filters offline. What is shown is measured in the browser: a copy of the
# page gets a probe script appended that writes the layout into the DOM,
# which --dump-dom returns.
import html
import json
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

    def measure(self, page, probe):
        """Runs `probe` (JavaScript, ending in a value) at the end of a copy of
        `page` in Chromium at 1200 px wide; returns the value (via JSON)."""
        with open(page) as f:
            source = f.read()
        script = ("<script>(function(){var out=document.createElement('pre');out.id='measured';"
                  "out.textContent=JSON.stringify((function(){%s})());"
                  "document.body.appendChild(out);})();</script>" % probe)
        probed = page + ".probe.html"
        with open(probed, "w") as f:
            f.write(source.replace("</body>", script + "</body>"))
        dom = self.chromium("--window-size=1200,1400", "--dump-dom", "file://" + probed)
        m = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
        self.assertIsNotNone(m, dom[-3000:])
        return json.loads(html.unescape(m.group(1)))

    TREND_PROBE = """
        var sec = document.getElementById('trend'), svg = document.getElementById('trend-chart');
        var cs = getComputedStyle(sec);
        var inner = sec.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        var labels = Array.prototype.map.call(svg.querySelectorAll('text.runlabel'), function (t) {
          var r = t.getBoundingClientRect(); return [r.left, r.right, r.height]; });
        var bars = Array.prototype.map.call(svg.querySelectorAll('rect.seg'), function (r) {
          return r.getBoundingClientRect().width; });
        return {chart: svg.getBoundingClientRect().width, inner: inner,
                page: document.documentElement.clientWidth, labels: labels, bars: bars};"""

    def assertReadableTrend(self, m, runs):
        # Over the section's full width (and most of the window's).
        self.assertGreaterEqual(m["chart"], 0.98 * m["inner"], m)
        self.assertGreaterEqual(m["chart"], 0.75 * m["page"], m)
        # One label per run, left to right, none overlapping, text of a
        # readable size; bars wide enough to see.
        labels = sorted(m["labels"])
        self.assertEqual(len(labels), runs, m)
        for a, b in zip(labels, labels[1:]):
            self.assertLessEqual(a[1], b[0], "run labels overlap: %r" % m)
        self.assertTrue(all(h >= 11 for _l, _r, h in labels), m)
        self.assertGreaterEqual(min(m["bars"]), 40 if runs <= 12 else 10, m)

    def test_the_trend_spans_the_page_for_2_and_for_12_runs(self):
        open_relay = aiosmtpd.start_aiosmtpd(self, self.dir)
        closed_addr = ports.random_loopback()
        fake_smtp.start_fake_smtp(self, self.dir, [(closed_addr, "relay_denied")],
                                  port=open_relay.port)
        self.start_dns({"open.test": open_relay.addr, "closed.test": closed_addr})
        for i in range(12):
            targets = ["open.test", "closed.test"] if i % 3 else ["closed.test"]
            self.survey(targets, open_relay.port,
                        extra=["--label", "monthly survey number %d" % (i + 1)])
            if i + 1 not in (2, 12):
                continue
            page = os.path.join(self.dir, "trend-%d.html" % (i + 1))
            r = relayscope.report(self.db, "--runs", "all", "--format", "html", "--out", page)
            self.assertEqual(r.returncode, 0, r.describe())
            self.assertReadableTrend(self.measure(page, self.TREND_PROBE), i + 1)
            self.chromium("--screenshot=" + page + ".png", "--window-size=1200,1400",
                          "file://" + page)

    def test_the_variants_have_a_table_and_a_chart_per_run(self):
        open_relay = aiosmtpd.start_aiosmtpd(self, self.dir)
        closed_addr = ports.random_loopback()
        fake_smtp.start_fake_smtp(self, self.dir, [(closed_addr, "relay_denied")],
                                  port=open_relay.port)
        self.start_dns({"open.test": open_relay.addr, "closed.test": closed_addr})
        self.survey(["open.test", "closed.test"], open_relay.port, extra=["--variants", "all"])
        self.survey(["closed.test"], open_relay.port, extra=["--variants", "all"])
        page = os.path.join(self.dir, "variants.html")
        r = relayscope.report(self.db, "--runs", "all", "--format", "html", "--out", page)
        self.assertEqual(r.returncode, 0, r.describe())
        m = self.measure(page, """
            var sec = document.getElementById('variants');
            var svg = document.getElementById('variants-chart');
            var cells = Array.prototype.map.call(svg.querySelectorAll('rect.cell'), function (c) {
              return [c.getAttribute('data-variant'), c.getAttribute('data-run'),
                      Number(c.getAttribute('data-relayed')), Number(c.getAttribute('data-tested')),
                      c.getBoundingClientRect().width]; });
            return {rows: sec.querySelectorAll('tbody tr').length, cells: cells,
                    chart: svg.getBoundingClientRect().width, section: sec.clientWidth};""")
        self.assertGreaterEqual(m["rows"], 3, m)  # some variants and "any variant"
        runs = sorted({c[1] for c in m["cells"]})
        self.assertEqual(len(runs), 2, m)
        # The open relay took tricks in run 1; nothing relayed in run 2.
        self.assertGreater(sum(c[2] for c in m["cells"] if c[1] == runs[0]), 0, m)
        self.assertEqual(sum(c[2] for c in m["cells"] if c[1] == runs[1]), 0, m)
        self.assertTrue(all(c[2] <= c[3] for c in m["cells"]), m)
        self.assertGreaterEqual(m["chart"], 0.9 * m["section"], m)
        self.assertGreater(min(c[4] for c in m["cells"]), 100, m)

    def test_the_hosts_page_sorts_and_filters_offline(self):
        addrs = ports.distinct_loopbacks(4)
        behaviours = ["ok", "relay_denied", "relay_denied", "ok"]
        fake = fake_smtp.start_fake_smtp(self, self.dir, list(zip(addrs, behaviours)))
        names = {"h%d-%s.test" % (i, b.replace("_", "-")): a
                 for i, (a, b) in enumerate(zip(addrs, behaviours))}
        self.start_dns(names)
        self.survey(sorted(names), fake.port)
        page = os.path.join(self.dir, "hosts.html")
        r = relayscope.report(self.db, "--hosts", "--format", "html", "--out", page)
        self.assertEqual(r.returncode, 0, r.describe())
        with open(page) as f:
            source = f.read()
        self.assertNotRegex(source, r"""(?i)(src|href)\s*=\s*["']?(https?:|//)""")
        m = self.measure(page, """
            function visible(col) {
              return Array.prototype.filter.call(document.querySelectorAll('#hosts tbody tr'),
                function (r) { return !r.hidden && r.offsetParent !== null; })
                .map(function (r) { return r.cells[col].textContent; }); }
            var th = document.querySelectorAll('#hosts thead th');
            var out = {start: visible(2)};
            th[2].click(); out.ip_up = visible(2);
            th[2].click(); out.ip_down = visible(2);
            th[1].click(); out.domain_up = visible(1);
            var f = document.getElementById('filter');
            f.value = 'relay-denied'; f.dispatchEvent(new Event('input'));
            out.filtered = visible(1);
            out.shown = document.getElementById('shown').textContent;
            f.value = ''; f.dispatchEvent(new Event('input'));
            var o = document.getElementById('outcome');
            o.value = 'OK'; o.dispatchEvent(new Event('change'));
            out.ok = visible(3);
            return out;""")
        def ip_key(ip):
            return tuple(int(x) for x in ip.split("."))
        self.assertEqual(sorted(m["start"]), sorted(addrs), m)
        self.assertEqual(m["ip_up"], sorted(addrs, key=ip_key), m)
        self.assertEqual(m["ip_down"], sorted(addrs, key=ip_key, reverse=True), m)
        self.assertEqual(m["domain_up"], sorted(names), m)
        self.assertEqual(sorted(m["filtered"]),
                         sorted(n for n in names if "relay-denied" in n), m)
        self.assertEqual(m["shown"], "2 of 4 hosts", m)
        self.assertEqual(m["ok"], ["OK", "OK"], m)


if __name__ == "__main__":
    unittest.main()
