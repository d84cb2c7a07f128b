"""deploy/trouped.service as `make install` writes it (paths under
PREFIX) passes `systemd-analyze verify` with nothing printed: the program
and the man pages it names are put in place under a temp prefix."""
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("TROUPE_BIN", os.path.join(REPO, "build", "bin"))


class TestSystemd(unittest.TestCase):
    def test_unit_verifies_clean(self):
        """The unit as `make install` writes it (paths under PREFIX), with
        the program and the man pages it names in place."""
        if not shutil.which("systemd-analyze"):
            self.skipTest("no systemd-analyze (systemd package) here")
        prefix = tempfile.mkdtemp(prefix="troupe-unit-")
        self.addCleanup(shutil.rmtree, prefix, True)
        os.makedirs(os.path.join(prefix, "bin"))
        shutil.copy2(os.path.join(BIN, "trouped"),
                     os.path.join(prefix, "bin"))
        for page, sec in (("trouped.8", "8"), ("troupe.conf.5", "5")):
            d = os.path.join(prefix, "share/man/man" + sec)
            os.makedirs(d, exist_ok=True)
            shutil.copy2(os.path.join(REPO, "docs", page), d)
        with open(os.path.join(REPO, "deploy", "trouped.service")) as f:
            text = f.read().replace("/usr/local", prefix)
        unit = os.path.join(prefix, "trouped.service")
        with open(unit, "w") as f:
            f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", unit],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, MANPATH=os.path.join(
                               prefix, "share/man")))
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
