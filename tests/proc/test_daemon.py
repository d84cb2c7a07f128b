"""trouped --daemon, --pidfile, NOTIFY_SOCKET and the log sinks, on real
processes.

Every daemon started here carries a unique TROUPE_TEST_TAG in its
environment (inherited by its actors): the cleanups find the processes
that hold it in /proc/PID/environ and kill them by pid, on top of the pids
read from the pidfiles, even when a test fails half way."""
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import uuid

from troupetest import Broker, alive, binpath, children_of, marked_pids

START_TIMEOUT = 30


def wait_dead(pid, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False


def tagged_pids(tag):
    """Live pids whose environment holds TROUPE_TEST_TAG=tag."""
    return marked_pids("TROUPE_TEST_TAG", tag)


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def kill(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.tag = uuid.uuid4().hex
        self.dir = tempfile.mkdtemp(prefix="troupe-daemon-test-")
        self.pidfile = os.path.join(self.dir, "trouped.pid")
        self.pids = set()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.addCleanup(self.kill_all)

    def kill_all(self):
        """SIGTERM then SIGKILL to every daemon and actor we started."""
        pids = set(self.pids) | set(tagged_pids(self.tag))
        p = read_pid(self.pidfile)
        if p > 0:
            pids.add(p)
        for pid in list(pids):
            pids |= set(children_of(pid))
        for pid in pids:
            kill(pid, signal.SIGTERM)
        for pid in pids:
            if not wait_dead(pid, 5.0):
                kill(pid, signal.SIGKILL)
        for pid in tagged_pids(self.tag):
            kill(pid, signal.SIGKILL)

    def env(self, run="run", **extra):
        env = dict(os.environ, TROUPE_RUN_DIR=os.path.join(self.dir, run),
                   TROUPE_TEST_TAG=self.tag)
        env.pop("NOTIFY_SOCKET", None)
        env.update(extra)
        return env

    def daemon(self, *args, env=None, pidfile=None, cwd=None):
        """Runs `trouped --daemon --pidfile P ARGS`: returns the
        CompletedProcess of the original parent."""
        cmd = [binpath("trouped"), "--daemon", "--node", "d1",
               "--pidfile", pidfile or self.pidfile] + list(args)
        r = subprocess.run(cmd, env=env or self.env(), capture_output=True,
                           text=True, timeout=START_TIMEOUT, cwd=cwd)
        pid = read_pid(os.path.join(cwd or "", pidfile or self.pidfile))
        if pid > 0:
            self.pids.add(pid)
        return r

    def cli(self, env, *args):
        return subprocess.run([binpath("troupe")] + list(args), env=env,
                              capture_output=True, text=True, timeout=30)

    def start_ok(self, *args, env=None):
        r = self.daemon(*args, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = read_pid(self.pidfile)
        self.assertGreater(pid, 0, "no pid in the pidfile")
        self.assertTrue(alive(pid))
        return pid

    def stop_by_pidfile(self):
        pid = read_pid(self.pidfile)
        self.assertGreater(pid, 0)
        kill(pid, signal.SIGTERM)
        self.assertTrue(wait_dead(pid, 20.0), "daemon ignored SIGTERM")
        return pid


class TestDetach(DaemonTest):
    def test_ready_when_control_socket_answers(self):
        env = self.env()
        pid = self.start_ok("--log-file", os.path.join(self.dir, "log"),
                            env=env)
        # no retry: the parent returned only once the daemon was ready
        r = self.cli(env, "stats", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["pid"], pid)

    def test_detached_process_state(self):
        pid = self.start_ok()
        with open("/proc/%d/status" % pid) as f:
            status = dict(line.split(":", 1) for line in f)
        ppid = int(status["PPid"])
        self.assertNotEqual(ppid, os.getpid())
        self.assertNotIn(pid, children_of(os.getpid()))
        # double fork: not a session leader, not in our session
        self.assertNotEqual(os.getsid(pid), pid)
        self.assertNotEqual(os.getsid(pid), os.getsid(0))
        self.assertEqual(os.readlink("/proc/%d/cwd" % pid), "/")
        self.assertEqual(status["Umask"].strip(), "0027")
        for fd in (0, 1, 2):
            self.assertEqual(os.readlink("/proc/%d/fd/%d" % (pid, fd)),
                             "/dev/null")

    def test_start_failure_reaches_the_parent(self):
        env = self.env(TROUPE_RUN_DIR="/proc/x/run")
        t0 = time.time()
        r = self.daemon(env=env)
        self.assertNotEqual(r.returncode, 0)
        self.assertLess(time.time() - t0, 10.0)
        self.assertIn("run dir", r.stderr)
        self.assertIn("/proc/x/run", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        # the daemon gave up: no process of it is left, nor its pidfile
        deadline = time.time() + 5
        while tagged_pids(self.tag) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(tagged_pids(self.tag), [])
        self.assertFalse(os.path.exists(self.pidfile))

    def test_bad_log_file_is_reported_on_the_terminal(self):
        r = self.daemon("--log-file", "/proc/x/log")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/proc/x/log", r.stderr)
        self.assertEqual(tagged_pids(self.tag), [])


def wait_unlocked(path, timeout):
    """True once nobody holds a flock on path."""
    deadline = time.time() + timeout
    with open(path) as f:
        while time.time() < deadline:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                return True
            except BlockingIOError:
                time.sleep(0.01)
    return False


class TestPidfile(DaemonTest):
    def test_second_daemon_refused_then_stale_taken_over(self):
        first = self.start_ok()
        r = self.daemon(env=self.env(run="run2"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already running as pid %d" % first, r.stderr)
        self.assertIn(self.pidfile, r.stderr)
        self.assertEqual(read_pid(self.pidfile), first)
        self.assertTrue(alive(first))

        actors = children_of(first)
        self.pids |= set(actors)
        kill(first, signal.SIGKILL)
        self.assertTrue(wait_dead(first))
        for pid in actors:
            kill(pid, signal.SIGKILL)
        # the stale pidfile is still there, its lock gone with its owner:
        # a killed process shows as a zombie while its other threads are
        # still tearing down and holding the file, so wait for the lock
        self.assertEqual(read_pid(self.pidfile), first)
        self.assertTrue(wait_unlocked(self.pidfile, 10.0))

        env = self.env(run="run3")
        second = self.start_ok(env=env)
        self.assertNotEqual(second, first)
        self.assertEqual(self.cli(env, "stats").returncode, 0)

    def test_sigterm_removes_pidfile(self):
        log = os.path.join(self.dir, "log")
        self.start_ok("--log-file", log)
        self.stop_by_pidfile()
        self.assertFalse(os.path.exists(self.pidfile))
        with open(log) as f:
            self.assertIn('msg="trouped stopped" exit=0', f.read())

    def test_relative_paths_survive_chdir(self):
        r = self.daemon("--log-file", "rel.log", pidfile="rel.pid",
                        cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        pidfile = os.path.join(self.dir, "rel.pid")
        pid = read_pid(pidfile)
        self.assertTrue(alive(pid))
        kill(pid, signal.SIGTERM)
        self.assertTrue(wait_dead(pid, 20.0))
        self.assertFalse(os.path.exists(pidfile))
        with open(os.path.join(self.dir, "rel.log")) as f:
            self.assertIn("trouped ready", f.read())

    def test_foreground_pidfile(self):
        b = Broker(args=["--pidfile", self.pidfile])
        self.addCleanup(b.cleanup)
        b.wait_ready()
        self.assertEqual(read_pid(self.pidfile), b.pid)
        self.assertEqual(b.stop(), 0)
        self.assertFalse(os.path.exists(self.pidfile))


class TestNotify(DaemonTest):
    def listen(self, abstract=False):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(s.close)
        if abstract:
            name = "troupe-test-" + self.tag
            s.bind("\0" + name)
            addr = "@" + name
        else:
            addr = os.path.join(self.dir, "notify.sock")
            s.bind(addr)
        s.settimeout(10.0)
        return s, addr

    def expect(self, s, state):
        """Reads datagrams until one holds the line `state`."""
        seen = []
        deadline = time.time() + 10
        while time.time() < deadline:
            msg = s.recv(4096).decode()
            seen.append(msg)
            if state in msg.split("\n"):
                return msg
        self.fail("no %s in %r" % (state, seen))

    def check_ready_and_stopping(self, abstract):
        s, addr = self.listen(abstract)
        pid = self.start_ok(env=self.env(NOTIFY_SOCKET=addr))
        msg = self.expect(s, "READY=1")
        self.assertIn("MAINPID=%d" % pid, msg.split("\n"))
        # actors must not inherit the right to speak for trouped
        for child in children_of(pid):
            with open("/proc/%d/environ" % child, "rb") as f:
                self.assertNotIn(b"NOTIFY_SOCKET=", f.read())
        self.stop_by_pidfile()
        self.expect(s, "STOPPING=1")

    def test_ready_and_stopping_path_socket(self):
        self.check_ready_and_stopping(False)

    def test_ready_and_stopping_abstract_socket(self):
        self.check_ready_and_stopping(True)

    def test_reloading_on_sighup(self):
        s, addr = self.listen()
        pid = self.start_ok(env=self.env(NOTIFY_SOCKET=addr))
        self.expect(s, "READY=1")
        kill(pid, signal.SIGHUP)
        self.expect(s, "RELOADING=1")
        self.expect(s, "READY=1")
        self.assertTrue(alive(pid))


class TestLogs(DaemonTest):
    def test_json_lines(self):
        log = os.path.join(self.dir, "log")
        pid = self.start_ok("--log-format", "json", "--log-file", log)
        self.stop_by_pidfile()
        with open(log) as f:
            lines = [ln for ln in f.read().split("\n") if ln]
        self.assertGreater(len(lines), 2)
        events = [json.loads(ln) for ln in lines]
        for e in events:
            self.assertIsInstance(e, dict)
            self.assertIn(e["level"], ("debug", "info", "warn", "error"))
            self.assertRegex(e["ts"], r"^\d{4}-\d\d-\d\dT[\d:.]+Z$")
            self.assertIsInstance(e["msg"], str)
        ready = [e for e in events if e["msg"] == "trouped ready"]
        self.assertEqual(len(ready), 1, lines)
        self.assertEqual(ready[0]["pid"], pid)
        self.assertEqual(ready[0]["node"], "d1")
        stopped = [e for e in events if e["msg"] == "trouped stopped"]
        self.assertEqual(stopped[0]["exit"], 0)

    def test_quoted_values_in_json(self):
        # make_dir logs error="..." with spaces: it must come back whole
        log = os.path.join(self.dir, "log")
        r = self.daemon("--log-format", "json", "--log-file", log,
                        env=self.env(TROUPE_RUN_DIR="/proc/x/run"))
        self.assertNotEqual(r.returncode, 0)
        with open(log) as f:
            events = [json.loads(ln) for ln in f if ln.strip()]
        errs = [e for e in events if e["level"] == "error"]
        self.assertTrue(errs, events)
        self.assertEqual(errs[0]["path"], "/proc/x/run")
        self.assertIn(" ", errs[0]["error"])

    def test_log_file_instead_of_stderr(self):
        log = os.path.join(self.dir, "fg.log")
        b = Broker(args=["--log-file", log])
        self.addCleanup(b.cleanup)
        b.wait_ready()
        self.assertEqual(b.stop(), 0)
        with open(log) as f:
            text = f.read()
        self.assertIn('level=info msg="trouped ready"', text)
        self.assertIn('msg="trouped stopped"', text)
        with open(b.log_path) as f:
            self.assertNotIn("trouped ready", f.read())

    def test_sighup_reopens_log_file(self):
        log = os.path.join(self.dir, "log")
        pid = self.start_ok("--log-file", log)
        os.rename(log, log + ".1")
        kill(pid, signal.SIGHUP)
        deadline = time.time() + 10
        while not os.path.exists(log) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(log), "log not reopened")
        self.stop_by_pidfile()
        with open(log) as f:
            self.assertIn("trouped stopped", f.read())

    def test_unknown_log_format_is_usage_error(self):
        r = subprocess.run([binpath("trouped"), "--log-format", "xml"],
                           env=self.env(), capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 64)
        self.assertIn("xml", r.stderr)


if __name__ == "__main__":
    unittest.main()
