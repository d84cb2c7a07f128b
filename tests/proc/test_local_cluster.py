"""`make cluster N=3` / `make cluster-down` (deploy/local-cluster, which
the Makefile calls): three daemons with pidfiles under their own dir, one
key, a cluster that forms; a second `up` starts nothing; `down` leaves no
trouped.  Ports 17541-17543, group 239.255.77.20:17525, a temp dir."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

from troupetest import BIN, HERE, alive, binpath, kill_pids, marked_pids

SCRIPT = os.path.join(HERE, "..", "..", "deploy", "local-cluster")


class TestLocalCluster(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="troupe-lc-")
        self.env = dict(os.environ, CLUSTER_DIR=self.dir,
                        CLUSTER_PORT="17541",
                        CLUSTER_GROUP="239.255.77.20:17525",
                        TROUPE_BIN=os.path.abspath(BIN),
                        TROUPE_TEST_TAG=uuid.uuid4().hex)
        self.addCleanup(self.cleanup)

    def script(self, *args):
        return subprocess.run(["sh", SCRIPT] + list(args), env=self.env,
                              capture_output=True, text=True, timeout=60)

    def pids(self):
        out = []
        for k in (1, 2, 3):
            pf = os.path.join(self.dir, "n%d" % k, "trouped.pid")
            if os.path.exists(pf):
                with open(pf) as f:
                    out.append(int(f.read()))
        return out

    def cleanup(self):
        pids = self.pids()
        self.script("down")
        # by pid only, should down have failed: the pidfiles, then what
        # still carries this test's mark (a node whose pidfile is gone)
        kill_pids(pids)
        kill_pids(marked_pids("TROUPE_TEST_TAG",
                              self.env["TROUPE_TEST_TAG"]))
        shutil.rmtree(self.dir, ignore_errors=True)

    def nodes(self, k):
        env = dict(os.environ, TROUPE_RUN_DIR=os.path.join(
            self.dir, "n%d" % k, "run"))
        r = subprocess.run([binpath("troupe"), "nodes", "--json"], env=env,
                           capture_output=True, text=True, timeout=30)
        return json.loads(r.stdout) if r.returncode == 0 else []

    def test_up_twice_nodes_down(self):
        r = self.script("up", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("TROUPE_RUN_DIR=", r.stdout)
        pids = self.pids()
        self.assertEqual(len(pids), 3)
        self.assertTrue(all(alive(p) for p in pids))
        r = self.script("up", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count("already running"), 3)
        self.assertEqual(self.pids(), pids)

        def three_alive(k):
            ns = self.nodes(k)
            return len([n for n in ns if n["state"] == "alive"]) == 3
        deadline = time.time() + 5
        while time.time() < deadline and not three_alive(2):
            time.sleep(0.1)
        self.assertTrue(three_alive(2), self.nodes(2))
        r = self.script("down")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse([p for p in pids if alive(p)])


if __name__ == "__main__":
    unittest.main()
