# Runs the relayscope binary under test (black box: its command line and its
# reports only) and parses `report --hosts` output for the tests.
# Limits: every run is bounded by a wall-clock timeout; nothing here reads the
# results database directly.
import csv
import io
import json
import os
import shutil
import time

from . import process


def binary():
    """The relayscope binary: $RELAYSCOPE_BIN (set by ctest), else a build dir's."""
    b = os.environ.get("RELAYSCOPE_BIN")
    if b:
        return b
    candidates = []
    build = os.environ.get("RELAYSCOPE_BUILD_DIR")
    src = os.environ.get("RELAYSCOPE_SOURCE_DIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    for d in ([build] if build else []) + [os.path.join(src, "build")]:
        candidates += [os.path.join(d, "relayscope"), os.path.join(d, "src", "cli", "relayscope")]
    for c in candidates:
        if os.access(c, os.X_OK):
            return c
    found = shutil.which("relayscope")
    if found:
        return found
    raise RuntimeError("no relayscope binary: set RELAYSCOPE_BIN")


class Result:
    """A finished command: returncode, stdout, stderr, wall-clock seconds."""

    def __init__(self, argv, completed, seconds):
        self.argv = argv
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.seconds = seconds

    def describe(self):
        return "$ %s\nexit %s after %.1f s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.argv), self.returncode, self.seconds, self.stdout[-4000:], self.stderr[-4000:])


def run(args, timeout=300):
    argv = [binary()] + [str(a) for a in args]
    t0 = time.monotonic()
    try:
        completed = process.run(argv, timeout=timeout)
    except Exception as e:
        raise AssertionError("%s did not finish within %d s: %s" % (" ".join(argv), timeout, e))
    return Result(argv, completed, time.monotonic() - t0)


def write_targets(workdir, lines, name="targets.txt"):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def survey(targets, dns, db, port, timeout=5, concurrency=10, extra=(), wall_timeout=300,
           domains=True, scope="127.0.0.0/8", helo="probe.relayscope.test", greylist_retry="0"):
    """relayscope survey with the options every test uses; returns a Result.

    greylist_retry: --greylist-retry; "0" (off) unless a test is about it,
    since the labs' greylisting hosts would hold a run for the default 6
    minutes; None leaves the option out (the default)."""
    args = ["survey", "--targets", targets, "--dns", dns, "--db", db, "--port", port,
            "--timeout", timeout, "--concurrency", concurrency, "--scope", scope]
    if greylist_retry is not None:
        args += ["--greylist-retry", greylist_retry]
    if domains:
        args.append("--domains")
    if helo:
        args += ["--helo", helo]
    args += list(extra)
    return run(args, timeout=wall_timeout)


def report(db, *args, timeout=120):
    return run(["report", "--db", db] + list(args), timeout=timeout)


def hosts_csv(db, runs=None):
    """`report --hosts --format csv` as a list of dicts (one per probed host)."""
    args = ["--hosts", "--format", "csv"] + (["--runs", runs] if runs else [])
    r = report(db, *args)
    if r.returncode != 0:
        raise AssertionError("report --hosts --format csv failed\n" + r.describe())
    return list(csv.DictReader(io.StringIO(r.stdout)))


def _host_list(doc):
    """Finds the per-host objects in report JSON, whatever it nests them in."""
    if isinstance(doc, list):
        if all(isinstance(x, dict) and "ip" in x for x in doc):
            return doc
        out = []
        for x in doc:
            out += _host_list(x)
        return out
    if isinstance(doc, dict):
        if "ip" in doc and "outcome" in doc:
            return [doc]
        out = []
        for key in ("hosts", "runs", "probes"):
            if key in doc:
                out += _host_list(doc[key])
        return out
    return []


def hosts_json(db, runs=None):
    """`report --hosts --format json`: the per-host objects (with transcripts if any)."""
    args = ["--hosts", "--format", "json"] + (["--runs", runs] if runs else [])
    r = report(db, *args)
    if r.returncode != 0:
        raise AssertionError("report --hosts --format json failed\n" + r.describe())
    return _host_list(json.loads(r.stdout))


def transcript_lines(host):
    """A host object's transcript as plain strings (entries may be objects)."""
    out = []
    for e in host.get("transcript") or []:
        if isinstance(e, str):
            out.append(e)
        elif isinstance(e, dict):
            out.append(str(e.get("text", e.get("line", json.dumps(e)))))
        else:
            out.append(str(e))
    return out


def by_ip(rows):
    """{ip: [rows]}: a host probed twice shows up as a list of two."""
    out = {}
    for r in rows:
        out.setdefault(r["ip"], []).append(r)
    return out
