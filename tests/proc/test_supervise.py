"""Supervision and the signal lifecycle of trouped, on real processes:
restarts and their reasons, strategies, intensity, at-least-once across
crashes, drain on SIGTERM, SIGHUP reloads, SIGKILL after `shutdown`, and
no orphan after a kill -9 of trouped (issue 4's "Done when" lines; the
pidfile line is tests/proc/test_daemon.py TestPidfile).

The misbehaving actor is tests/actors/crashy.c (BUILD/tests/bin/crashy).
Only ipc sockets: no ports."""
import json
import os
import resource
import shutil
import signal
import tempfile
import time
import unittest

from troupetest import BIN, BrokerTest, binpath, children_of

CRASHY = os.path.join(BIN, "..", "tests", "bin", "crashy")


def setUpModule():
    # crashy abort()s on purpose: no core files
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def alive(pid):
    """True while pid runs; a zombie counts as dead."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (OSError, IndexError):
        return False


def wait_for(what, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = what()
        if v:
            return v
        time.sleep(step)
    return None


def lines(n, start=1):
    return "".join("%d\n" % i for i in range(start, start + n))


class SuperviseTest(BrokerTest):
    def start_raw(self, conf, args=()):
        """A broker whose actors need not all be running yet."""
        from troupetest import Broker
        b = Broker(conf, args)
        self.addCleanup(b.cleanup)
        ok = wait_for(lambda: b.cli("stats", check=False).returncode == 0)
        self.assertTrue(ok, b.logtext())
        return b

    def outfile(self, name):
        d = tempfile.mkdtemp(prefix="troupe-sup-")
        self.addCleanup(shutil.rmtree, d, True)
        return os.path.join(d, name)

    def pids(self, b):
        return {n: a["pid"] for n, a in b.actors().items()}

    def running(self, b, names):
        acts = b.actors()
        return all(acts[n]["state"] == "running" for n in names) and acts

    def send_lines(self, b, actor, text):
        r = b.cli("send", actor, "-", input=text)
        self.assertEqual(r.returncode, 0, r.stderr)


class TestRestart(SuperviseTest):
    def test_kill9_new_pid_answers_within_1s(self):
        b = self.start("[actor echo]\nexec = troupe-echo\n")
        old = b.actors()["echo"]["pid"]
        t0 = time.time()
        os.kill(old, signal.SIGKILL)

        def answered():
            a = b.actors()["echo"]
            return (a["pid"] not in (0, old) and a["state"] == "running"
                    and b.cli("ask", "echo", "7", check=False).stdout
                    .strip() == "7")
        self.assertTrue(wait_for(answered, 5.0, 0.01))
        took = time.time() - t0
        print("\n  restart answered after %.0f ms" % (took * 1000))
        self.assertLess(took, 1.0)
        a = b.actors()["echo"]
        self.assertEqual(a["restarts"], 1)
        self.assertEqual(a["last_exit"], "killed by signal 9")
        self.assertIn("killed by signal 9", b.cli("actors").stdout)

    def group_conf(self, strategy):
        return ("[supervisor g]\nstrategy = %s\nbackoff_min = 10ms\n"
                "backoff_max = 50ms\n"
                "[actor a]\nexec = troupe-echo\nsupervisor = g\n"
                "[actor b]\nexec = troupe-echo\nsupervisor = g\n"
                "[actor c]\nexec = troupe-echo\nsupervisor = g\n"
                "[actor x]\nexec = troupe-echo\n" % strategy)

    def kill_b(self, strategy):
        b = self.start(self.group_conf(strategy))
        before = self.pids(b)
        os.kill(before["b"], signal.SIGKILL)
        return b, before

    def test_one_for_all_restarts_every_sibling(self):
        b, before = self.kill_b("one_for_all")

        def all_new():
            acts = self.running(b, "abcx")
            return acts and all(acts[n]["pid"] != before[n] for n in "abc")
        self.assertTrue(wait_for(all_new), b.logtext())
        self.assertEqual(self.pids(b)["x"], before["x"])

    def test_rest_for_one_restarts_only_later_ones(self):
        b, before = self.kill_b("rest_for_one")

        def later_new():
            acts = self.running(b, "abcx")
            return acts and all(acts[n]["pid"] != before[n] for n in "bc")
        self.assertTrue(wait_for(later_new), b.logtext())
        after = self.pids(b)
        self.assertEqual(after["a"], before["a"])
        self.assertEqual(after["x"], before["x"])

    def test_intensity_exceeded_fails_group_broker_stays(self):
        b = self.start_raw(
            "[supervisor bad]\nintensity = 3\nperiod = 10s\n"
            "backoff_min = 10ms\nbackoff_max = 40ms\n"
            "[actor f]\nexec = /bin/false\nsupervisor = bad\n"
            "[actor echo]\nexec = troupe-echo\n")
        self.assertTrue(wait_for(
            lambda: b.actors()["f"]["state"] == "failed"), b.logtext())
        time.sleep(0.3)		# and it stays failed
        f = b.actors()["f"]
        self.assertEqual(f["state"], "failed")
        self.assertEqual(f["restarts"], 3)
        self.assertEqual(f["last_exit"], "exited with status 1")
        self.assertEqual(f["supervisor"], ["bad", "root"])
        self.assertEqual(f["supervisor_state"], "failed")
        row = [l for l in b.cli("actors").stdout.splitlines()
               if l.startswith("f ")]
        self.assertIn("failed", row[0])
        self.assertEqual(b.cli("ask", "echo", "1").stdout.strip(), "1")
        self.assertEqual(b.actors()["echo"]["state"], "running")
        self.assertIn("supervisor gave up", b.logtext())


class TestAtLeastOnce(SuperviseTest):
    def test_abort_every_100th_loses_nothing(self):
        out = self.outfile("logger.jsonl")
        b = self.start_raw(
            "[supervisor s]\nintensity = 1000\nperiod = 10s\n"
            "backoff_min = 5ms\nbackoff_max = 20ms\n"
            "[actor crashy]\nexec = %s -c 100 -f logger\nsupervisor = s\n"
            # a window under 100: each crash requeues at most one
            # message that would crash it again (crashy spares those)
            "mailbox = 20000\ninflight = 64\n"
            "[actor logger]\nexec = troupe-logger %s\nmailbox = 20000\n"
            % (CRASHY, out))
        self.send_lines(b, "crashy", lines(10000))

        def seen():
            try:
                with open(out) as f:
                    got = [json.loads(l)["body"] for l in f]
            except OSError:
                return None
            return len(set(got)) == 10000 and got
        got = wait_for(seen, 60.0, 0.2)
        self.assertTrue(got, "logger has %s" % b.actors()["logger"])
        self.assertEqual(set(got), set(range(1, 10001)))
        c = b.actors()["crashy"]
        print("\n  10000 sent, logger lines %d, crashy restarts %d, "
              "redelivered %d" % (len(got), c["restarts"],
                                  c["redelivered"]))
        self.assertEqual(c["restarts"], 100)
        self.assertGreaterEqual(c["redelivered"], 100)


class TestLifecycle(SuperviseTest):
    def test_sigterm_drains_5000_then_exits_0(self):
        out = self.outfile("slow.out")
        b = self.start_raw(
            "[node]\ndrain_timeout = 60s\n"
            "[actor slow]\nexec = %s -s 1000 -o %s\nmailbox = 10000\n"
            "[actor echo]\nexec = troupe-echo\n" % (CRASHY, out))
        wait_for(lambda: self.running(b, ["slow", "echo"]))
        kids = children_of(b.pid)
        self.send_lines(b, "slow", lines(5000))
        queued = b.actors()["slow"]["mailbox"]
        b.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        r = b.cli("send", "slow", "1", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("shutting down", r.stderr)
        self.assertEqual(b.proc.wait(60), 0)
        with open(out) as f:
            got = [int(l.split()[0]) for l in f]
        print("\n  queued at SIGTERM %d, written %d" % (queued, len(got)))
        self.assertGreater(queued, 0)
        self.assertEqual(sorted(set(got)), list(range(1, 5001)))
        self.assertFalse([p for p in kids if alive(p)])

    def test_second_sigterm_stops_at_once(self):
        b = self.start("[node]\ndrain_timeout = 60s\n"
                       "[actor slow]\nexec = %s -s 200000\n" % CRASHY)
        self.send_lines(b, "slow", lines(50))
        kids = children_of(b.pid)
        b.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        self.assertIsNone(b.proc.poll(), "drain should still run")
        t0 = time.time()
        b.proc.send_signal(signal.SIGTERM)
        self.assertEqual(b.proc.wait(10), 0)
        self.assertLess(time.time() - t0, 3.0)
        self.assertFalse([p for p in kids if alive(p)])

    def test_ignored_sigterm_gets_sigkill_reverse_order(self):
        b = self.start(
            "[actor a]\nexec = troupe-echo\n"
            "[actor b]\nexec = %s -i\nshutdown = 500ms\n"
            "[actor c]\nexec = troupe-echo\n" % CRASHY)
        pb = b.actors()["b"]["pid"]
        b.proc.send_signal(signal.SIGTERM)
        self.assertEqual(b.proc.wait(20), 0)
        log = b.logtext()
        order = [l.split("actor=")[1].split()[0] for l in log.splitlines()
                 if 'msg="actor stopping"' in l]
        self.assertEqual(order, ["c", "b", "a"], log)
        self.assertIn('did not stop in time, killing" actor=b', log)
        self.assertIn('actor=b pid=%d reason="killed by signal 9"' % pb,
                      log)
        self.assertFalse(alive(pb))

    def test_crash_loop_then_sigterm_is_prompt(self):
        b = self.start_raw(
            "[supervisor loop]\nintensity = 10000\nperiod = 1s\n"
            "backoff_min = 1ms\nbackoff_max = 5ms\n"
            "[actor f]\nexec = /bin/false\nsupervisor = loop\n"
            "[actor echo]\nexec = troupe-echo\n")
        self.assertTrue(wait_for(
            lambda: b.actors()["f"]["restarts"] >= 5), b.logtext())
        t0 = time.time()
        b.proc.send_signal(signal.SIGTERM)
        self.assertEqual(b.proc.wait(10), 0)
        self.assertLess(time.time() - t0, 3.0)

    def test_kill9_of_trouped_leaves_no_actor(self):
        b = self.start()
        kids = children_of(b.pid)
        self.assertEqual(len(kids), 4)
        b.proc.kill()
        b.proc.wait()
        t0 = time.time()
        self.assertTrue(wait_for(lambda: not any(alive(p) for p in kids),
                                 1.0, 0.01),
                        "left: %s" % [p for p in kids if alive(p)])
        print("\n  actors gone %.0f ms after kill -9" %
              ((time.time() - t0) * 1000))


class TestReload(SuperviseTest):
    BASE = "[actor echo]\nexec = troupe-echo\n" \
           "[actor counter]\nexec = troupe-counter\n"

    def rewrite(self, b, text):
        with open(b.conf_path, "w") as f:
            f.write(text)
        b.proc.send_signal(signal.SIGHUP)

    def test_sighup_adds_changes_removes(self):
        b = self.start(self.BASE)
        before = self.pids(b)
        self.rewrite(b, self.BASE + "[actor extra]\nexec = troupe-echo\n")
        self.assertTrue(wait_for(lambda: "extra" in b.actors() and
                                 self.running(b, ["extra"])), b.logtext())
        self.assertEqual(b.cli("ask", "extra", "3").stdout.strip(), "3")
        after = self.pids(b)
        self.assertEqual(after["echo"], before["echo"])
        self.assertEqual(after["counter"], before["counter"])
        # changed: counter restarts; removed: extra goes, socket unlinked
        self.rewrite(b, self.BASE.replace("troupe-counter",
                                          "troupe-counter\nmailbox = 7"))
        sock = os.path.join(b.run_dir, "mbx", "extra.sock")
        self.assertTrue(wait_for(lambda: "extra" not in b.actors() and
                                 not os.path.exists(sock)), b.logtext())
        self.assertTrue(wait_for(lambda: self.running(b, ["counter"]) and
                                 b.actors()["counter"]["capacity"] == 7 and
                                 b.actors()["counter"]["pid"] !=
                                 before["counter"]))
        self.assertEqual(self.pids(b)["echo"], before["echo"])
        self.assertFalse(alive(after["extra"]))

    def test_sighup_broken_config_changes_nothing(self):
        b = self.start(self.BASE)
        before = b.actors()
        self.rewrite(b, self.BASE + "[actor bad]\nexec = troupe-echo\n"
                     "mailbox = lots\n")
        self.assertTrue(wait_for(lambda: "reload failed" in b.logtext()))
        log = b.logtext()
        self.assertIn("troupe.conf:7", log)
        self.assertIn("mailbox", log.split("reload failed")[1])
        after = b.actors()
        self.assertEqual(set(after), set(before))
        self.assertEqual({n: a["pid"] for n, a in after.items()},
                         {n: a["pid"] for n, a in before.items()})
        self.assertEqual(b.cli("ask", "echo", "5").stdout.strip(), "5")


class TestControl(SuperviseTest):
    def test_spawn_stop_restart(self):
        b = self.start(None)
        r = b.cli("spawn", "x", "--exec", "troupe-echo", "--restart",
                  "transient", "--mailbox", "10", "--json")
        a = json.loads(r.stdout)
        self.assertEqual((a["name"], a["restart"], a["capacity"]),
                         ("x", "transient", 10))
        self.assertTrue(wait_for(lambda: self.running(b, ["x"])))
        self.assertEqual(b.cli("ask", "x", "9").stdout.strip(), "9")
        pid = b.actors()["x"]["pid"]
        b.cli("restart", "x")
        self.assertTrue(wait_for(lambda: self.running(b, ["x"]) and
                                 b.actors()["x"]["pid"] != pid))
        b.cli("stop", "x")
        self.assertTrue(wait_for(
            lambda: b.actors()["x"]["state"] == "stopped"))
        r = b.cli("spawn", "echo", "--exec", "troupe-echo", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists", r.stderr)
        r = b.cli("spawn", "y", "--exec", "troupe-echo", "--overflow",
                  "sideways", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("overflow", r.stderr)
        for cmd in ("spawn", "stop", "restart"):
            h = b.cli(cmd, "--help")
            self.assertIn("usage: troupe", h.stdout)
        head = b.cli("actors").stdout.splitlines()[0].split()
        self.assertEqual(head[:8], ["NAME", "NODE", "PID", "STATE",
                                    "RESTARTS", "MAILBOX", "IN", "OUT"])
        self.assertEqual(head[8:], ["UPTIME", "LAST-EXIT"])


if __name__ == "__main__":
    unittest.main()
