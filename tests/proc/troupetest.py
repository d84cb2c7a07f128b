"""Helpers for process-level tests: start real trouped daemons in their own
temp run dirs, run the real CLI, and stop every process by pid, even when
a test fails.

Every Broker marks its environment with TROUPE_TEST_BROKER=<uuid>, which
trouped hands down to its actors: stop() finds what is left by that mark
(/proc/PID/environ) and kills it by pid.  The suite runner (run.py) marks
the whole run the same way (TROUPE_TEST_RUN) and fails the run when a
marked process outlives it.  Programs that must run as another uid are
copied somewhere that uid can reach (copy_for_uid)."""
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("TROUPE_BIN",
                     os.path.join(HERE, "..", "..", "build", "bin"))


def binpath(name):
    return os.path.join(BIN, name)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def alive(pid):
    """True while pid runs; a zombie nobody reaps yet counts as dead."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def has_mark(pid, name, value):
    """True when pid lives and its environment holds name=value."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return False
    return ("%s=%s" % (name, value)).encode() in env and alive(pid)


def marked_pids(name, value):
    """Live pids whose environment holds name=value (from /proc: finds
    double-forked daemons and orphaned actors too; a process of another
    uid is only visible to root)."""
    want = ("%s=%s" % (name, value)).encode()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if want in env and alive(int(d)):
            out.append(int(d))
    return out


def kill_pids(pids, grace=5.0):
    """SIGTERM to each pid, SIGKILL to those still alive after grace
    seconds; returns the pids that were alive at the start."""
    live = [p for p in pids if alive(p)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in live:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.time() + grace
        while time.time() < deadline and any(alive(p) for p in live):
            time.sleep(0.02)
    return live


def children_of(pid):
    """Pids whose parent is pid (from /proc, no ps needed)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(d))
        except (OSError, IndexError):
            pass
    return out


def whole_lines(path):
    """The complete lines (a last one still being written is left out)
    of a file that test actors append to; [] before it exists."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    return [ln[:-1] for ln in text.splitlines(keepends=True)
            if ln.endswith("\n")]


def wait_for(pred, timeout, step=0.05):
    """Polls pred until it is true or timeout seconds passed; returns its
    last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def terminate(p, timeout=20.0, sig=signal.SIGTERM):
    """Sends sig to Popen p, SIGKILLs it after timeout, reaps it; returns
    its exit status."""
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def cluster_formed(handles, names, nodes_of):
    """True when, for every handle, nodes_of(handle) ({name: row} from
    `troupe nodes --json`) shows every name alive with its link up."""
    for h in handles:
        ns = nodes_of(h)
        for name in names:
            n = ns.get(name)
            if n is None or n["state"] != "alive" or \
                    n["link"] not in ("up", "self"):
                return False
    return True


def write_key(path, key=None):
    """A cluster key file as `troupe keygen` writes it: 32 random bytes,
    mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key if key is not None else os.urandom(32))
    return path


def never_ready_exec(test):
    """An actor program that runs but never dials its mailbox (whatever
    its arguments), so a broker with it never becomes ready; removed
    when the test ends."""
    d = tempfile.mkdtemp(prefix="troupe-never-")
    test.addCleanup(shutil.rmtree, d, True)
    path = os.path.join(d, "never-ready")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec sleep 1000\n")
    os.chmod(path, 0o755)
    return path


NOBODY = 65534
FORCE_FAIL = "TROUPE_TEST_FORCE_SETUP_FAIL"


def as_uid(uid, gid=None):
    """A preexec_fn that drops every group and becomes uid (needs root)."""
    def drop():
        os.setgroups([])
        os.setgid(uid if gid is None else gid)
        os.setuid(uid)
    return drop


def others_can_reach(path):
    """'' when every directory above path (and path) lets others search
    it, else the first one that does not."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & stat.S_IXOTH:
            return path
        if path == "/":
            return ""
        path = os.path.dirname(path)


def copy_for_uid(test, uid, names):
    """Copies the programs `names` of BIN (statically linked against
    libtroupe, so nothing else of the tree is needed) into a fresh 0755
    temp dir that uid can reach, removed when the test ends; returns that
    dir.  The build tree may sit where uid cannot go (a 0700 home, a
    `mktemp -d`).  Skips the test, saying why, when even the temp dir is
    out of reach."""
    top = tempfile.gettempdir()
    shut = others_can_reach(top)
    if shut:
        test.skipTest("uid %d cannot reach the temp dir %s (%s is not "
                      "searchable by others; set TMPDIR)" % (uid, top, shut))
    d = tempfile.mkdtemp(prefix="troupe-uid%d-" % uid)
    test.addCleanup(shutil.rmtree, d, True)
    os.chmod(d, 0o755)
    for name in names:
        dst = os.path.join(d, name)
        shutil.copyfile(binpath(name), dst)
        os.chmod(dst, 0o755)
    return d


class Broker:
    """One trouped in a fresh run dir; `conf` is INI text or None for the
    embedded default.  A constructor that raises leaves nothing running;
    so does wait_ready."""

    def __init__(self, conf=None, args=(), node="t1", prefix=()):
        """conf may also be a function of the broker's dir that returns
        the text (a config that names files of its own dir)."""
        self.dir = tempfile.mkdtemp(prefix="troupe-test-")
        self.run_dir = os.path.join(self.dir, "run")
        self.node = node
        self.tag = uuid.uuid4().hex
        self.env = dict(os.environ, TROUPE_RUN_DIR=self.run_dir,
                        TROUPE_TEST_BROKER=self.tag)
        self.env.pop("NO_COLOR", None)
        self.log_path = os.path.join(self.dir, "trouped.log")
        self.proc = None
        self.pid = 0
        self.actor_pids = set()
        self.log = open(self.log_path, "w")
        try:
            # prefix: a command that execs trouped in place (`ip netns
            # exec NS`), so self.pid is still trouped's
            cmd = list(prefix) + [binpath("trouped"), "--node", node]
            if callable(conf):
                conf = conf(self.dir)
            if conf is not None:
                self.conf_path = os.path.join(self.dir, "troupe.conf")
                with open(self.conf_path, "w") as f:
                    f.write(conf)
                cmd += ["-c", self.conf_path]
            self.launch(cmd + list(args))
        except BaseException:
            self.cleanup()
            raise

    def launch(self, cmd):
        """Starts cmd as this broker's trouped, logging to log_path."""
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def wait_ready(self, timeout=10.0):
        """Waits until every actor runs; on any failure the broker is
        stopped before the error goes up, so a test whose setup fails
        here leaks nothing even before its cleanups are registered."""
        try:
            actors = self.poll_ready(timeout)
            if os.environ.get(FORCE_FAIL) in (self.node, "all"):
                raise RuntimeError("setup failure forced by %s=%s" %
                                   (FORCE_FAIL, os.environ[FORCE_FAIL]))
            return actors
        except BaseException:
            self.stop()
            raise

    def poll_ready(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("trouped exited %d:\n%s" %
                                   (self.proc.returncode, self.logtext()))
            r = self.cli("actors", "--json", check=False)
            if r.returncode == 0:
                actors = json.loads(r.stdout)
                if all(a["state"] == "running" for a in actors):
                    self.actor_pids |= {a["pid"] for a in actors}
                    return actors
            time.sleep(0.05)
        raise RuntimeError("trouped not ready:\n" + self.logtext())

    def cli(self, *args, check=True, input=None, timeout=120):
        r = subprocess.run([binpath("troupe")] + list(args), env=self.env,
                           capture_output=True, text=True, input=input,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("troupe %s -> %d: %s" %
                                 (" ".join(args), r.returncode, r.stderr))
        return r

    def actors(self):
        actors = json.loads(self.cli("actors", "--json").stdout)
        self.actor_pids |= {a["pid"] for a in actors if a["pid"]}
        return {a["name"]: a for a in actors}

    def logtext(self):
        if not self.log.closed:         # still readable once stopped
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Stops trouped and anything it left behind, by pid only: its
        children, the actor pids seen, and whatever still carries this
        broker's mark (an actor orphaned by a kill -9 of trouped)."""
        kids = set()
        if self.proc is not None and self.proc.poll() is None:
            kids = set(children_of(self.pid))
            terminate(self.proc, timeout, sig)
        # a pid seen long ago may be another process's by now (a test
        # that kills instances makes many): only ours, by their mark,
        # and the children trouped had a moment ago
        for pid in kids | {p for p in self.actor_pids
                           if has_mark(p, "TROUPE_TEST_BROKER", self.tag)}:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        kill_pids(marked_pids("TROUPE_TEST_BROKER", self.tag))
        self.log.close()
        return self.proc.returncode if self.proc is not None else None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class BrokerTest(unittest.TestCase):
    def start(self, conf=None, args=(), node="t1"):
        b = Broker(conf, args, node)
        self.addCleanup(b.cleanup)
        b.wait_ready()
        return b
