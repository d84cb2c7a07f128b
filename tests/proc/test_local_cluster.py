"""`make cluster N=3` / `make cluster-down`, which call `troupe cluster up
N` / `troupe cluster down`: three zero-config daemons with pidfiles in
their run dirs, a cluster that forms, a second `up` that starts nothing,
an ask across nodes, and a `down` that leaves no trouped.  Isolated: its
own XDG_RUNTIME_DIR (run dirs), XDG_CONFIG_HOME and HOME (so its own key,
hence its own multicast group: cluster.group = auto)."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from troupetest import BIN, HERE, binpath

ROOT = os.path.join(HERE, "..", "..")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def isolated_env(d):
    env = dict(os.environ)
    for k in ("TROUPE_RUN_DIR", "TROUPE_NODE"):
        env.pop(k, None)
    for k, sub in (("XDG_RUNTIME_DIR", "rt"), ("XDG_CONFIG_HOME", "cfg"),
                   ("HOME", "home"), ("XDG_STATE_HOME", "state")):
        path = os.path.join(d, sub)
        os.mkdir(path, 0o700)
        env[k] = path
    return env


class TestLocalCluster(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="troupe-lc-")
        self.env = isolated_env(self.dir)
        self.base = os.path.join(self.env["XDG_RUNTIME_DIR"], "troupe")
        self.build = os.path.dirname(os.path.abspath(BIN))
        self.addCleanup(self.cleanup)

    def make(self, *args):
        return subprocess.run(["make", "-C", ROOT, "-s",
                               "BUILD=" + self.build] + list(args),
                              env=self.env, capture_output=True, text=True,
                              timeout=120)

    def troupe(self, *args):
        return subprocess.run([binpath("troupe")] + list(args),
                              env=self.env, capture_output=True, text=True,
                              timeout=60)

    def pids(self):
        out = []
        for k in (1, 2, 3):
            pf = os.path.join(self.base, "n%d" % k, "trouped.pid")
            if os.path.exists(pf):
                with open(pf) as f:
                    out.append(int(f.read()))
        return out

    def cleanup(self):
        pids = self.pids()
        self.troupe("cluster", "down")
        for pid in pids:         # by pid only, should down have failed
            if alive(pid):
                os.kill(pid, 9)
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_make_cluster_up_twice_ask_down(self):
        r = self.make("cluster", "N=3")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count(" started "), 3, r.stdout)
        self.assertIn("formed in", r.stdout)
        pids = self.pids()
        self.assertEqual(len(pids), 3)
        self.assertTrue(all(alive(p) for p in pids))
        r = self.troupe("cluster", "up", "3", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        nodes = json.loads(r.stdout)
        self.assertEqual([n["name"] for n in nodes], ["n1", "n2", "n3"])
        self.assertEqual([n["started"] for n in nodes], [False] * 3)
        self.assertEqual(sorted(n["pid"] for n in nodes), sorted(pids))
        self.assertEqual(self.pids(), pids)
        r = self.troupe("--node", "n2", "nodes", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(n["name"] for n in json.loads(r.stdout)
                                if n["state"] == "alive"),
                         ["n1", "n2", "n3"])
        r = self.troupe("--node", "n1", "ask", "echo@n3", '{"k":1}')
        self.assertEqual((r.returncode, r.stdout.strip()), (0, '{"k":1}'),
                         r.stderr)
        r = self.make("cluster-down")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count("stopped pid"), 3, r.stdout)
        self.assertFalse([p for p in pids if alive(p)])
        self.assertEqual(self.pids(), [])

    def test_up_rejects_bad_counts(self):
        for bad in ("0", "x", "65"):
            with self.subTest(n=bad):
                r = self.troupe("cluster", "up", bad)
                self.assertEqual(r.returncode, 64)
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertFalse(os.path.exists(self.base))


if __name__ == "__main__":
    unittest.main()
