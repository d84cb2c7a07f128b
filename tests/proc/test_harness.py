"""The test helpers' own promises (issue 12): the tests that run the CLI
as another uid pass from a build tree that uid cannot reach (finding 1);
a Broker whose wait_ready fails is stopped before the error goes up, and
the suite's runner (run.py) fails a run that leaves a process behind,
double-forked daemons included, and kills it by pid (finding 2)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from troupetest import (BIN, HERE, Broker, alive, binpath, children_of,
                        never_ready_exec, wait_for)

# A test module that leaks: a trouped --daemon (double fork, pidfile) it
# never stops.  The inner run's guard must catch it.
LEAKY = '''
import os, subprocess, unittest
class Leaky(unittest.TestCase):
    def test_leaks_a_daemon(self):
        d = os.environ["LEAK_DIR"]
        subprocess.run([%r, "--daemon", "--node", "leak", "--pidfile",
                        os.path.join(d, "pid")], check=True, timeout=30,
                       env=dict(os.environ,
                                TROUPE_RUN_DIR=os.path.join(d, "run")))
'''


@unittest.skipUnless(os.geteuid() == 0, "needs root: the tests it runs "
                     "switch to uid nobody")
class TestCheckoutAnywhere(unittest.TestCase):
    def test_uid_tests_pass_from_a_0700_build_tree(self):
        """The build tree copied into a 0700 dir, as in a clone into
        root's home or `mktemp -d`: the tests that run the CLI as nobody
        still pass (they erred with PermissionError before)."""
        d = tempfile.mkdtemp(prefix="troupe-0700-")
        self.addCleanup(shutil.rmtree, d, True)
        self.assertEqual(os.stat(d).st_mode & 0o777, 0o700)
        shutil.copytree(BIN, os.path.join(d, "bin"))
        r = subprocess.run(
            [sys.executable, os.path.join(HERE, "run.py"), "-p",
             "test_[ks]e*.py", "-k", "ControlUidTest", "-k",
             "test_default_path_is_per_user"],
            env=dict(os.environ, TROUPE_BIN=os.path.join(d, "bin")),
            capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Ran 4 tests", r.stderr)
        self.assertNotIn("skipped", r.stderr)


class TestWaitReady(unittest.TestCase):
    def test_not_ready_stops_trouped_and_actors(self):
        b = Broker("[actor never]\nexec = %s\n" % never_ready_exec(self))
        self.addCleanup(b.cleanup)
        pids = []
        wait_for(lambda: pids.extend(children_of(b.pid)) or pids, 5.0)
        with self.assertRaises(RuntimeError):
            b.wait_ready(timeout=1.0)
        self.assertFalse(alive(b.pid), "trouped left running")
        self.assertTrue(pids, "the actor never started")
        self.assertTrue(wait_for(lambda: not any(alive(p) for p in pids),
                                 2.0), "actor left running: %s" % pids)


class TestGuard(unittest.TestCase):
    def test_leaked_daemon_fails_the_run_and_is_killed(self):
        d = tempfile.mkdtemp(prefix="troupe-leak-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(d, "test_leaky.py"), "w") as f:
            f.write(LEAKY % binpath("trouped"))
        r = subprocess.run([sys.executable, os.path.join(HERE, "run.py"),
                            "-s", d], env=dict(os.environ, LEAK_DIR=d),
                           capture_output=True, text=True, timeout=120)
        leaks = {int(pid): what for pid, what in re.findall(
            r"^LEAK: pid (\d+) outlived the test run: (.*)$", r.stderr,
            re.M)}
        for pid in leaks:
            self.addCleanup(lambda p=pid: alive(p) and os.kill(p, 9))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("\nOK\n", r.stderr)       # the test itself passed
        daemons = [p for p, what in leaks.items() if "trouped --daemon "
                   "--node leak" in what]
        self.assertEqual(len(daemons), 1, r.stderr)
        self.assertIn("started in test_leaky.Leaky.test_leaks_a_daemon",
                      leaks[daemons[0]])
        self.assertIn("process guard: FAILED, %d process(es)" % len(leaks),
                      r.stderr)
        left = [p for p in leaks if alive(p)]
        self.assertEqual(left, [], "the guard did not kill these")

if __name__ == "__main__":
    unittest.main()
