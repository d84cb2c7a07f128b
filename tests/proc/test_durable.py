"""Step 8: durable mailboxes on real processes.

- kill -9 of trouped during a burst of confirmed sends (`troupe send
  --confirm dq -`), then a restart on the same data dir: every confirmed
  message is delivered (fsync batch and always);
- a segment whose tail was truncated, or whose last record had a bit
  flipped, while trouped was down: trouped starts, says what it cut (log
  line and `troupe inspect`), and delivers the records before the cut.

The consumer is the test actor crashy (-o FILE: one "N R" line per
message, R = redelivered; -s: slow, so a backlog is queued when trouped
dies)."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid
from unittest import mock

from troupetest import (BIN, Broker, binpath, kill_pids, marked_pids,
                        never_ready_exec, wait_for, write_key)

CRASHY = os.path.join(BIN, "..", "tests", "bin", "crashy")


def conf(d, fsync, sleep_us):
    return ("[node]\ndata_dir = %s/data\nfsync = %s\nfsync_interval = 10ms\n"
            "\n[supervisor root]\nintensity = 100\nperiod = 1s\n"
            "backoff_min = 10ms\n\n[actor dq]\nexec = %s -o %s/dq.out -s %d"
            "\nmailbox = 256\ninflight = 8\ndurable = true\n"
            % (d, fsync, os.path.abspath(CRASHY), d, sleep_us))


class Durable(Broker):
    """A Broker that can be kill -9ed and started again on the same run
    dir, data dir and config."""

    def __init__(self, fsync="batch", sleep_us=2000):
        super().__init__(lambda d: conf(d, fsync, sleep_us), node="dur1")
        self.out = os.path.join(self.dir, "dq.out")
        self.seg_dir = os.path.join(self.dir, "data", "dq")
        try:
            self.wait_ready()
        except BaseException:
            # the caller never gets this object to clean up
            self.cleanup()
            raise

    def start_again(self):
        self.log = open(self.log_path, "a")
        self.launch([binpath("trouped"), "--node", "dur1", "-c",
                     self.conf_path])
        self.wait_ready()

    def kill9(self):
        self.actor_pids |= {a["pid"] for a in self.actors().values()
                            if a["pid"]}
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        time.sleep(0.1)                 # PDEATHSIG reaches the actor

    def seen(self):
        """{n: copies} of what dq wrote."""
        out = {}
        try:
            with open(self.out) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2:
                        n = int(parts[0])
                        out[n] = out.get(n, 0) + 1
        except FileNotFoundError:
            pass
        return out

    def wait_seen(self, want, timeout=40.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if want <= set(self.seen()):
                return True
            time.sleep(0.05)
        return False

    def last_segment(self):
        segs = sorted(x for x in os.listdir(self.seg_dir)
                      if x.startswith("seg-"))
        return os.path.join(self.seg_dir, segs[-1])


class TestDurable(unittest.TestCase):
    def start(self, **kw):
        b = Durable(**kw)
        self.addCleanup(b.cleanup)
        return b

    def burst_then_kill(self, fsync):
        b = self.start(fsync=fsync, sleep_us=20000)
        cli = subprocess.Popen(
            [binpath("troupe"), "send", "--confirm", "dq", "-"],
            env=b.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        cli.stdin.write(b"".join(b"%d\n" % n for n in range(2000)))
        cli.stdin.close()
        # kill -9 mid-burst: once some 300 sends are confirmed
        confirmed = 0
        while confirmed < 300:
            line = cli.stdout.readline()
            if not line:
                self.fail("the burst stopped: %s" % cli.stderr.read())
            confirmed += 1
        b.kill9()
        confirmed += sum(1 for line in cli.stdout if line.strip())
        cli.wait(10)
        cli.stdout.close()
        cli.stderr.close()
        self.assertNotEqual(cli.returncode, 0, "the burst outlived trouped")
        self.assertLess(confirmed, 2000)
        before = set(b.seen())
        self.assertLess(len(before), confirmed, "nothing was pending")
        b.start_again()
        self.assertTrue(b.wait_seen(set(range(confirmed))),
                        "lost: %s" % sorted(set(range(confirmed)) -
                                            set(b.seen()))[:20])
        log = b.logtext()
        self.assertIn("durable log recovered", log)
        a = json.loads(b.cli("inspect", "dq", "--json").stdout)
        self.assertTrue(a["durable"])
        self.assertGreater(a["log"]["recovered"], 0, a)
        self.assertEqual(a["log"]["fsync"], fsync)

    def test_kill9_during_burst_batch(self):
        self.burst_then_kill("batch")

    def test_kill9_during_burst_always(self):
        self.burst_then_kill("always")

    def queued_then_down(self):
        """10 messages queued (dq stopped), on disk, trouped killed."""
        b = self.start()
        b.cli("stop", "dq")
        for n in range(10):
            b.cli("send", "--confirm", "dq", str(n))
        b.kill9()
        return b

    def damaged_restart(self, b, reason):
        b.start_again()
        log = b.logtext()
        self.assertIn("durable log damaged, tail truncated", log)
        self.assertIn(reason, log)
        self.assertTrue(b.wait_seen(set(range(9))))
        time.sleep(0.3)
        self.assertNotIn(9, b.seen())       # the damaged last record
        a = json.loads(b.cli("inspect", "dq", "--json").stdout)
        self.assertTrue(a["log"]["truncated"], a)
        self.assertIn(reason, a["log"]["truncation"])
        self.assertEqual(a["log"]["recovered"], 9)
        # and the log takes new messages after the cut
        b.cli("send", "--confirm", "dq", "100")
        self.assertTrue(b.wait_seen({100}))

    def test_truncated_tail(self):
        b = self.queued_then_down()
        seg = b.last_segment()
        os.truncate(seg, os.path.getsize(seg) - 7)
        self.damaged_restart(b, "torn record")

    def test_bit_flipped_tail(self):
        b = self.queued_then_down()
        seg = b.last_segment()
        with open(seg, "r+b") as f:
            f.seek(os.path.getsize(seg) - 20)   # inside the last record
            c = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([c[0] ^ 0x10]))
        self.damaged_restart(b, "checksum")


class TestSetupFailure(unittest.TestCase):
    """Issue 12, finding 2: Durable() whose wait_ready fails (its consumer
    runs but never dials its mailbox) raised with its trouped still
    running.  Whatever it started must be gone once it has raised."""

    def test_failed_start_leaves_no_process(self):
        probe = uuid.uuid4().hex
        os.environ["TROUPE_TEST_PROBE"] = probe
        self.addCleanup(os.environ.pop, "TROUPE_TEST_PROBE", None)
        with mock.patch("%s.CRASHY" % __name__, never_ready_exec(self)):
            with self.assertRaises(RuntimeError):
                Durable()
        wait_for(lambda: not marked_pids("TROUPE_TEST_PROBE", probe), 2.0)
        left = marked_pids("TROUPE_TEST_PROBE", probe)
        kill_pids(left)             # this test must not leak either
        self.assertEqual(left, [], "left running after Durable() raised")


def cluster_conf(name, port, key, actors):
    data = os.path.join(os.path.dirname(key), name)
    return ("[node]\nname = %s\nlisten = tcp://127.0.0.1:%d\n"
            "data_dir = %s\n\n[cluster]\n"
            "discovery = multicast\ngroup = 239.255.78.2:17573\n"
            "interface = 127.0.0.1\nbeacon_interval = 200ms\n"
            "suspect_after = 3s\ndead_after = 6s\nkey_file = %s\n\n%s"
            % (name, port, data, key, actors))


class TestConfirmAcrossNodes(unittest.TestCase):
    """--confirm to name@node: the ACK is the remote broker's, so what it
    refuses fails the CLI (without --confirm the CLI only learns that
    the message left on the link).  Ports 17561-17562, group port
    17573."""

    def test_remote_broker_confirms(self):
        keydir = tempfile.mkdtemp(prefix="troupe-key-")
        self.addCleanup(shutil.rmtree, keydir, True)
        key = write_key(os.path.join(keydir, "cluster.key"))
        n2 = Broker(cluster_conf("c2", 17562, key,
                                 "[actor rj]\nexec = troupe-sink "
                                 "--sleep-us 500000\nmailbox = 1\n"
                                 "inflight = 1\noverflow = reject\n\n"
                                 "[actor dd]\nexec = troupe-sink\n"
                                 "durable = true\n"), node="c2")
        self.addCleanup(n2.cleanup)
        n1 = Broker(cluster_conf("c1", 17561, key, "[actor e]\n"
                                 "exec = troupe-echo\n"), node="c1")
        self.addCleanup(n1.cleanup)
        n1.wait_ready()
        n2.wait_ready()
        deadline = time.time() + 20
        while time.time() < deadline:
            r = n1.cli("nodes", "--json", check=False)
            if r.returncode == 0 and any(
                    x["name"] == "c2" and x["link"] == "up"
                    for x in json.loads(r.stdout)):
                break
            time.sleep(0.1)
        else:
            self.fail("no link c1 -> c2")
        n1.cli("send", "--confirm", "dd@c2", '{"n":1}')
        a = json.loads(n2.cli("inspect", "dd", "--json").stdout)
        self.assertEqual(a["received"], 1)
        self.assertGreaterEqual(a["log"]["durable_seq"], 1)
        # refused there: unknown actor, a full `reject` mailbox
        r = n1.cli("send", "--confirm", "nosuch@c2", "1", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("unknown actor", r.stderr)
        r = n1.cli("send", "nosuch@c2", "1", check=False)
        self.assertEqual(r.returncode, 0, "left on the link: " + r.stderr)
        codes = [n1.cli("send", "--confirm", "rj@c2", str(i),
                        check=False).returncode for i in range(3)]
        self.assertEqual(codes[0], 0)
        self.assertIn(1, codes[1:])


if __name__ == "__main__":
    unittest.main()
