# Help, man pages and completion (issue 15.6): every --help has a synopsis,
# the required options first, examples and exit codes, and no CLI11 type
# jargon; relay --help speaks of signals, the pid file and logs; lab
# --list-profiles describes each profile; relayscope(1) and relayscope.toml(5)
# render with `man -l` and name every subcommand, option and config key; the
# bash completion completes subcommands, options and their values.
import os
import re
import subprocess
import unittest

from peers import process

BIN = os.environ.get("RELAYSCOPE_BIN", "")
SRC = os.environ.get("RELAYSCOPE_SOURCE_DIR", "")
BUILD = os.environ.get("RELAYSCOPE_BUILD_DIR", "")


def run(*args):
    return process.run([BIN] + list(args), timeout=60)


def subcommands():
    out = run("--help").stdout
    section = out.split("Subcommands:", 1)[1].lstrip("\n")
    names = []
    for line in section.splitlines():
        if not line.strip():
            break
        names.append(line.split()[0])
    return names


def options_of(*sub):
    text = run(*(list(sub) + ["--help"])).stdout
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text.split("Examples:")[0])))


def render(page):
    path = os.path.join(BUILD, "packaging", page)
    r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0"))
    return r


def plain(text):
    # man's output may keep overstrike (bold) and hyphen forms: compare plain text.
    text = re.sub(r".\x08", "", text)
    return text.replace("\u2010", "-").replace("\u2011", "-").replace("\u2212", "-")


class HelpTest(unittest.TestCase):
    def test_every_help_has_synopsis_examples_exit_codes_and_no_jargon(self):
        for sub in subcommands():
            with self.subTest(sub=sub):
                res = run(sub, "--help")
                self.assertEqual(res.returncode, 0, res.stderr)
                out = res.stdout
                self.assertIn("Synopsis:", out)
                self.assertIn("Examples:", out)
                self.assertIn("Exit status:", out)
                for jargon in ("UINT", "INT in [", "TEXT:", "REQUIRED", "FLOAT"):
                    self.assertNotIn(jargon, out)

    def test_required_options_come_first(self):
        out = run("survey", "--help").stdout
        opts = out.split("Options:", 1)[1]
        self.assertLess(opts.index("--db"), opts.index("--domains"))
        self.assertRegex(opts, r"--db FILE|--db TEXT")
        self.assertIn("(required)", opts.split("--domains")[0])

    def test_relay_help_speaks_of_signals_pid_file_and_logs(self):
        out = run("relay", "--help").stdout
        for word in ("SIGHUP", "SIGTERM", "SIGUSR1", "Pid file", "Logs", "syslog"):
            self.assertIn(word, out)

    def test_lab_lists_profiles_with_descriptions(self):
        res = run("lab", "--list-profiles")
        self.assertEqual(res.returncode, 0, res.stderr)
        lines = [l for l in res.stdout.splitlines() if l.strip()]
        self.assertTrue(any(l.startswith("imc-1999-07") for l in lines), res.stdout)
        for line in lines:
            name, _, what = line.partition(" ")
            self.assertTrue(what.strip(), "profile %s has no description" % name)


class ManTest(unittest.TestCase):
    def test_relayscope_1_renders_and_names_every_subcommand_and_option(self):
        r = render("relayscope.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "")
        text = plain(r.stdout)
        self.assertIn("RELAYSCOPE(1)", text)
        missing = []
        for sub in subcommands():
            if not re.search(r"relayscope %s\b" % re.escape(sub), text):
                missing.append(sub)
            subs = [[sub]] + ([[sub, "export"]] if sub == "dnsbl" else [])
            for argv in subs:
                for opt in options_of(*argv):
                    if opt not in ("--help", "--version") and opt not in text:
                        missing.append("%s %s" % (" ".join(argv), opt))
        self.assertEqual(missing, [], "not in relayscope(1)")

    def test_relayscope_toml_5_renders_and_names_every_key(self):
        r = render("relayscope.toml.5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "")
        text = plain(r.stdout)
        keys = set()
        for example in (os.path.join(SRC, "examples", "relay.toml"),
                        os.path.join(SRC, "packaging", "relay.toml")):
            section = None
            with open(example) as f:
                for line in f:
                    line = line.strip().lstrip("#").strip()
                    m = re.match(r"^\[(\w+)\]$", line)
                    if m:
                        section = m.group(1)
                        continue
                    m = re.match(r"^(\w+) *=", line)
                    if m and section:
                        keys.add((section, m.group(1)))
        self.assertGreater(len(keys), 30)
        missing = []
        for section, key in sorted(keys):
            part = text.split("[%s]" % section, 1)
            if len(part) < 2 or not re.search(r"\b%s\b" % key, part[1]):
                missing.append("%s.%s" % (section, key))
        self.assertEqual(missing, [], "not in relayscope.toml(5)")


class CompletionTest(unittest.TestCase):
    def complete(self, *words):
        script = os.path.join(SRC, "packaging", "relayscope.bash-completion")
        line = " ".join((BIN,) + words)
        bash = (
            "source /usr/share/bash-completion/bash_completion\n"
            "source %s\n"
            "COMP_WORDS=(%s)\n"
            "COMP_CWORD=%d\n"
            "COMP_LINE=%s\n"
            "COMP_POINT=${#COMP_LINE}\n"
            "_relayscope\n"
            'printf "%%s\\n" "${COMPREPLY[@]}"\n'
        ) % (script, " ".join("'%s'" % w for w in (BIN,) + words), len(words),
             "'%s'" % line)
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", bash], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [w for w in r.stdout.splitlines() if w]

    def test_subcommands(self):
        self.assertEqual(self.complete("qu"), ["queue"])
        self.assertEqual(sorted(self.complete("c")), ["check-config", "collect"])

    def test_options_of_a_subcommand(self):
        self.assertEqual(self.complete("survey", "--conc"), ["--concurrency"])
        self.assertIn("--config", self.complete("queue", "--"))

    def test_values(self):
        self.assertEqual(self.complete("report", "--db", "x.db", "--format", "j"), ["json"])
        self.assertEqual(self.complete("queue", "--config", "r.toml", "ho"), ["hold"])
        self.assertIn("imc-1999-07", self.complete("lab", "--profile", "imc-1999"))


if __name__ == "__main__":
    unittest.main()
