"""Helpers for process-level tests: start real trouped daemons in their own
temp run dirs, run the real CLI, and stop every process by pid, even when
a test fails."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

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


def wait_for(pred, timeout, step=0.05):
    """Polls pred until it is true or timeout seconds passed; returns its
    last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def write_key(path, key=None):
    """A cluster key file as `troupe keygen` writes it: 32 random bytes,
    mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key if key is not None else os.urandom(32))
    return path


class Broker:
    """One trouped in a fresh run dir; `conf` is INI text or None for the
    embedded default."""

    def __init__(self, conf=None, args=(), node="t1", prefix=()):
        self.dir = tempfile.mkdtemp(prefix="troupe-test-")
        self.run_dir = os.path.join(self.dir, "run")
        self.env = dict(os.environ, TROUPE_RUN_DIR=self.run_dir)
        self.env.pop("NO_COLOR", None)
        self.log_path = os.path.join(self.dir, "trouped.log")
        # prefix: a command that execs trouped in place (`ip netns exec
        # NS`), so self.pid is still trouped's
        cmd = list(prefix) + [binpath("trouped"), "--node", node]
        if conf is not None:
            self.conf_path = os.path.join(self.dir, "troupe.conf")
            with open(self.conf_path, "w") as f:
                f.write(conf)
            cmd += ["-c", self.conf_path]
        cmd += list(args)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self.actor_pids = set()

    def wait_ready(self, timeout=10.0):
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
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Stops trouped and anything it left behind, by pid only."""
        if self.proc.poll() is None:
            self.actor_pids |= set(children_of(self.pid))
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.actor_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.log.close()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class BrokerTest(unittest.TestCase):
    def start(self, conf=None, args=(), node="t1"):
        b = Broker(conf, args, node)
        self.addCleanup(b.cleanup)
        b.wait_ready()
        return b
