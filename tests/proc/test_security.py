"""Local access control on real processes: the peer uid of every control
request (a CLI run as `nobody`), the run dir and socket modes that go with
node.allow_uids, and the peer pid check on mailbox sockets."""
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

from troupetest import (NOBODY, Broker, BrokerTest, as_uid, binpath,
                        copy_for_uid)


def wait_for(pred, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


@unittest.skipUnless(os.geteuid() == 0, "needs root: runs the CLI as "
                     "uid nobody (65534) against a root broker")
class ControlUidTest(BrokerTest):
    def setUp(self):
        # the build tree may be out of nobody's reach (a 0700 checkout):
        # nobody runs a copy of the CLI
        self.bin = copy_for_uid(self, NOBODY, ["troupe"])

    def start(self, conf=None, args=(), node="t1"):
        """A broker whose temp dir nobody may search (it is in the temp
        dir copy_for_uid checked)."""
        b = super().start(conf, args, node)
        os.chmod(b.dir, 0o711)
        return b

    def start_open(self, allow):
        """A broker whose run dir `nobody` can reach (allow_uids makes it
        0711 and ctl.sock 0666); the temp dir above is opened to match."""
        return self.start("[node]\nallow_uids = %s\n" % allow)

    def cli_nobody(self, b, *args):
        return subprocess.run([os.path.join(self.bin, "troupe")] +
                              list(args), env=b.env, capture_output=True,
                              text=True, timeout=60,
                              preexec_fn=as_uid(NOBODY))

    def test_other_uid_refused_and_logged(self):
        b = self.start_open("4242")
        self.assertEqual(stat.S_IMODE(os.stat(b.run_dir).st_mode), 0o711)
        sock = os.path.join(b.run_dir, "ctl.sock")
        self.assertEqual(stat.S_IMODE(os.stat(sock).st_mode), 0o666)
        self.assertEqual(
            stat.S_IMODE(os.stat(os.path.join(b.run_dir, "mbx")).st_mode),
            0o700)
        r = self.cli_nobody(b, "actors")
        self.assertEqual(r.returncode, 77, r.stderr)
        self.assertIn("permission denied: uid %d is not allowed" % NOBODY,
                      r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertTrue(wait_for(lambda: "uid=%d" % NOBODY in b.logtext()),
                        b.logtext())
        self.assertIn("permission denied", b.logtext())
        # The broker's own uid still passes.
        self.assertEqual(b.cli("actors").returncode, 0)

    def test_allowed_uid_passes(self):
        b = self.start_open("4242, %d" % NOBODY)
        r = self.cli_nobody(b, "stats", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsInstance(json.loads(r.stdout), dict)

    def test_default_modes_closed(self):
        b = self.start()
        self.assertEqual(stat.S_IMODE(os.stat(b.run_dir).st_mode), 0o700)
        sock = os.path.join(b.run_dir, "ctl.sock")
        self.assertEqual(stat.S_IMODE(os.stat(sock).st_mode), 0o600)
        r = self.cli_nobody(b, "actors")
        self.assertNotEqual(r.returncode, 0)


class MailboxPidTest(unittest.TestCase):
    def test_foreign_process_refused(self):
        # An actor that never dials: its mailbox waits for the pid the
        # broker spawned, and a foreign actor process dials it instead.
        b = Broker("[actor sleeper]\nexec = /bin/sleep 1000\n")
        self.addCleanup(b.cleanup)

        def starting():
            r = b.cli("inspect", "sleeper", "--json", check=False)
            if r.returncode != 0:
                return None
            a = json.loads(r.stdout)
            return a if a.get("pid") else None
        a = wait_for(starting)
        self.assertIsNotNone(a, b.logtext())
        b.actor_pids.add(a["pid"])
        env = dict(b.env, TROUPE_ACTOR="sleeper", TROUPE_NODE="t1",
                   TROUPE_MAILBOX="ipc://%s/mbx/sleeper.sock" % b.run_dir)
        env.pop("TROUPE_BROKER_PID", None)
        intruder = subprocess.Popen([binpath("troupe-echo")], env=env,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        b.actor_pids.add(intruder.pid)
        self.addCleanup(intruder.wait)
        # The gate closes its pipe at ADD_PRE, before the socket sees it,
        # and counts it; the actor's slot stays free for the spawned pid.
        def refused():
            st = json.loads(b.cli("stats", "--json").stdout)
            return st["refused_mailbox"] > 0
        self.assertTrue(wait_for(refused, 10), b.logtext())
        self.assertNotIn("mailbox link dropped", b.logtext())
        a = json.loads(b.cli("inspect", "sleeper", "--json").stdout)
        self.assertNotEqual(a["state"], "running")
        intruder.kill()


if __name__ == "__main__":
    unittest.main()


BADBODY = os.path.join(os.path.dirname(binpath("troupe")), "..", "tests",
                       "bin", "badbody")


@unittest.skipUnless(os.path.exists(BADBODY), "build/tests/bin/badbody "
                     "not built (make test builds it)")
class BadBodyTest(BrokerTest):
    """Issue 16: the broker forwards a version 2 body without walking it,
    so an actor that sends bytes that are no msgpack must not disturb
    the one that receives them: the bad SEND is dropped there, the bad
    ASK gets ERROR 4, a good ASK right behind them is answered, and the
    receiver keeps its pid with no restart."""

    def test_bad_bodies_refused_by_the_reader_alone(self):
        out = os.path.join(tempfile.mkdtemp(prefix="troupe-badbody-"),
                           "answers.txt")
        self.addCleanup(shutil.rmtree, os.path.dirname(out), True)
        b = self.start("[actor echo]\nexec = troupe-echo\n\n"
                       "[actor bad]\nexec = %s -t echo -o %s\n"
                       % (os.path.abspath(BADBODY), out))
        pid = b.actors()["echo"]["pid"]

        def answers():
            try:
                with open(out) as f:
                    lines = f.read().splitlines()
                return lines if len(lines) == 2 else None
            except OSError:
                return None
        got = wait_for(answers, 15)
        self.assertEqual(got, ["ask1 error 4", "ask2 reply"], b.logtext())
        echo = b.actors()["echo"]
        self.assertEqual((echo["pid"], echo["restarts"]), (pid, 0), echo)
        r = b.cli("ask", "echo", '"still here"')
        self.assertEqual(r.stdout.strip(), '"still here"')
        # the dropped SEND is said once, by the one who read it
        self.assertTrue(wait_for(lambda: "dropped a message from bad@t1 "
                                 in b.logtext(), 5), b.logtext())
