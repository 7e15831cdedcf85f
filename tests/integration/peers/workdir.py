# A temporary directory per test, removed at cleanup (kept when the
# environment sets RELAYSCOPE_KEEP_TMP=1, for looking at logs after a failure).
import os
import shutil
import tempfile


def make_workdir(testcase, prefix="relayscope-it-"):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)  # peers that drop root (postfix, nobody) must reach their files

    def cleanup():
        if os.environ.get("RELAYSCOPE_KEEP_TMP") == "1":
            print("kept test directory %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)

    testcase.addCleanup(cleanup)
    return d
