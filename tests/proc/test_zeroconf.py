"""Zero-config local cluster (issue 13): `trouped --node NAME` and nothing
else, two and three nodes side by side, as root and as an ordinary user.
Each node gets its own run dir (BASE/NAME), a free port on 127.0.0.1 and
multicast discovery on 127.0.0.1 with the per-user key; the cluster must
form in under 2 s, `troupe ask echo@n2` from n1's CLI must answer and
`troupe nodes` must list every node.  Then the CLI's broker selection:
one node running -> used; several -> exit 64 naming them; none -> 69.

Isolation: every test has its own XDG_RUNTIME_DIR (run dirs), its own
XDG_CONFIG_HOME and HOME (a fresh per-user key, so its own multicast
group: cluster.group = auto is drawn from the key) and XDG_STATE_HOME,
so two runs side by side, and the user's own nodes, never meet.  The
ordinary-user case runs as the fixed test user `troupezc` (made with
useradd when missing, kept for the next run) from a copy of the binaries
it can reach."""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from troupetest import BIN, children_of, terminate, wait_for

TEST_USER = "troupezc"
FORM_LIMIT_S = 2.0


def test_user():
    """(uid, gid) of the test user, made when missing; None when that
    cannot be done (not root, no useradd)."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(TEST_USER)
    except KeyError:
        r = subprocess.run(["useradd", "--system", "--no-create-home",
                            "--shell", "/usr/sbin/nologin", TEST_USER],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None
        pw = pwd.getpwnam(TEST_USER)
    return pw.pw_uid, pw.pw_gid


class Env:
    """A user's world of its own: temp runtime, config, home and state
    dirs, binaries it can run, and every process started in it."""

    def __init__(self, user=None):
        self.user = user
        self.dir = tempfile.mkdtemp(prefix="troupe-zc-")
        self.env = dict(os.environ)
        for k in ("TROUPE_RUN_DIR", "TROUPE_NODE"):
            self.env.pop(k, None)
        for k, sub in (("XDG_RUNTIME_DIR", "rt"),
                       ("XDG_CONFIG_HOME", "cfg"), ("HOME", "home"),
                       ("XDG_STATE_HOME", "state")):
            self.env[k] = self.mkdir(sub, 0o700)
        self.bin = os.path.abspath(BIN)
        if user is not None:
            # a 0700 temp dir is closed to the user: open the path
            os.chmod(self.dir, 0o711)
            self.bin = self.mkdir("bin", 0o755)
            for name in os.listdir(BIN):
                if name == "trouped" or name.startswith("troupe"):
                    shutil.copy2(os.path.join(BIN, name), self.bin)
        self.base = os.path.join(self.env["XDG_RUNTIME_DIR"], "troupe")
        self.nodes = {}

    def mkdir(self, sub, mode):
        path = os.path.join(self.dir, sub)
        os.mkdir(path, mode)
        if self.user is not None and mode == 0o700:
            os.chown(path, *self.user)
        return path

    def popen_args(self):
        if self.user is None:
            return {}
        return {"user": self.user[0], "group": self.user[1],
                "extra_groups": []}

    def start(self, name, *args):
        log = open(os.path.join(self.dir, name + ".log"), "w")
        p = subprocess.Popen([os.path.join(self.bin, "trouped"), "--node",
                              name] + list(args), env=self.env, stdout=log,
                             stderr=subprocess.STDOUT, **self.popen_args())
        self.nodes[name] = (p, log)
        return p

    def troupe(self, *args, env=None):
        return subprocess.run([os.path.join(self.bin, "troupe")] +
                              list(args), env=dict(self.env, **(env or {})),
                              capture_output=True, text=True, timeout=60,
                              **self.popen_args())

    def members(self, name):
        """Names node name lists alive, or None when it does not answer."""
        r = self.troupe("--node", name, "--timeout", "1s", "nodes",
                        "--json")
        if r.returncode != 0:
            return None
        return sorted(n["name"] for n in json.loads(r.stdout)
                      if n["state"] == "alive")

    def logtext(self, name):
        self.nodes[name][1].flush()
        with open(os.path.join(self.dir, name + ".log")) as f:
            return f.read()

    def stop(self, name):
        p, log = self.nodes.pop(name)
        if p.poll() is None:
            kids = children_of(p.pid)
            terminate(p, 20)
            for pid in kids:            # by pid, should any be left
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        log.close()
        return p.returncode

    def cleanup(self):
        for name in list(self.nodes):
            self.stop(name)
        shutil.rmtree(self.dir, ignore_errors=True)


class ZeroConfTest(unittest.TestCase):
    def world(self, user=None):
        e = Env(user)
        self.addCleanup(e.cleanup)
        return e

    def form(self, e, count):
        """Starts n1..nCOUNT with --node only; returns the seconds until
        every node listed all of them alive."""
        names = ["n%d" % k for k in range(1, count + 1)]
        t0 = time.monotonic()
        for name in names:
            e.start(name)
        formed = wait_for(lambda: all(e.members(n) == names
                                      for n in names), 10, step=0.02)
        took = time.monotonic() - t0
        for name in names:
            self.assertIsNone(e.nodes[name][0].poll(), e.logtext(name))
        self.assertTrue(formed, "\n".join(e.logtext(n) for n in names))
        return took

    def scenario(self, count, user=None):
        e = self.world(user)
        took = self.form(e, count)
        who = "uid %d" % (user[0] if user else os.geteuid())
        print("\n  zero-config cluster of %d (%s) formed in %.3f s" %
              (count, who, took), end=" ")
        self.assertLess(took, FORM_LIMIT_S)
        r = e.troupe("--node", "n1", "ask", "echo@n2", '{"hello":"n2"}')
        self.assertEqual((r.returncode, r.stdout.strip()),
                         (0, '{"hello":"n2"}'), r.stderr)
        r = e.troupe("--node", "n1", "nodes")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = r.stdout.splitlines()[1:]
        self.assertEqual(sorted(row.split()[0] for row in rows),
                         ["n%d" % k for k in range(1, count + 1)])
        nodes = json.loads(e.troupe("--node", "n1", "nodes",
                                    "--json").stdout)
        ports = set()
        for n in nodes:
            m = re.fullmatch(r"tcp://127\.0\.0\.1:(\d+)", n["endpoint"])
            self.assertIsNotNone(m, n)       # nothing leaves the machine
            ports.add(int(m.group(1)))
        self.assertEqual(len(ports), count)
        self.assertNotIn(7447, ports)
        for k in range(1, count + 1):
            d = os.path.join(e.base, "n%d" % k)
            self.assertTrue(os.path.exists(os.path.join(d, "ctl.sock")))
            st = os.stat(d)
            self.assertEqual(st.st_mode & 0o777, 0o700)
            self.assertEqual(st.st_uid, user[0] if user else os.geteuid())
            self.assertIn("zeroconf=yes", e.logtext("n%d" % k))
        key = os.path.join(e.env["XDG_CONFIG_HOME"], "troupe",
                           "cluster.key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)

    def other_user(self):
        user = test_user()
        if user is None:
            self.skipTest("needs root and useradd to run as an ordinary "
                          "user")
        return user

    def test_two_nodes(self):
        self.scenario(2)

    def test_three_nodes(self):
        self.scenario(3)

    def test_two_nodes_ordinary_user(self):
        self.scenario(2, self.other_user())

    def test_three_nodes_ordinary_user(self):
        self.scenario(3, self.other_user())

    def test_eight_at_once_on_a_first_start_share_one_key(self):
        """No key yet and eight nodes racing to make it: each finds one
        whole key (never a half-written file), all form one cluster."""
        e = self.world()
        took = self.form(e, 8)
        print("\n  8 nodes, first start, formed in %.3f s" % took, end=" ")
        self.assertEqual(len(re.findall("cluster key created", "".join(
            e.logtext("n%d" % k) for k in range(1, 9)))), 1)

    def test_cli_picks_the_one_node_else_names_them(self):
        e = self.world()
        r = e.troupe("nodes")
        self.assertEqual(r.returncode, 69, r.stderr)
        e.start("n1")
        self.assertTrue(wait_for(lambda: e.members("n1") is not None, 10))
        r = e.troupe("ask", "echo", "1")       # no choice, one node
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "1"),
                         r.stderr)
        e.start("n2")
        self.assertTrue(wait_for(lambda: e.members("n2") is not None, 10))
        r = e.troupe("nodes")
        self.assertEqual(r.returncode, 64)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn("(n1, n2)", r.stderr)
        self.assertIn("--node", r.stderr)
        r = e.troupe("stats", "--json", env={"TROUPE_NODE": "n2"})
        self.assertEqual(r.returncode, 0, r.stderr)
        r = e.troupe("--node", "n2", "inspect", "echo", "--json")
        self.assertEqual(json.loads(r.stdout)["node"], "n2")
        # --node names a node of another machine: the filter of actors,
        # through the one broker picked here (after n2 stops)
        e.stop("n2")
        r = e.troupe("--node", "n9", "actors", "--json")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "[]"),
                         r.stderr)
        r = e.troupe("nodes", env={"TROUPE_NODE": "n2"})   # stopped
        self.assertEqual(r.returncode, 69)
        self.assertIn(os.path.join(e.base, "n2", "ctl.sock"), r.stderr)

    def test_two_worlds_never_meet(self):
        """Same node names, same machine, two keys: two clusters."""
        a, b = self.world(), self.world()
        for e in (a, b):
            e.start("n1")
            e.start("n2")
        for e in (a, b):
            self.assertTrue(wait_for(lambda: e.members("n1") ==
                                     ["n1", "n2"], 10))
        time.sleep(1.2)                 # beacons of both have flown
        for e in (a, b):
            self.assertEqual(e.members("n1"), ["n1", "n2"])
        groups = [re.search(r"group=(\S+)", e.logtext("n1")).group(1)
                  for e in (a, b)]
        self.assertNotEqual(groups[0], groups[1])

    def test_explicit_run_dir_keeps_todays_meaning(self):
        e = self.world()
        run = os.path.join(e.dir, "run")
        e.env["TROUPE_RUN_DIR"] = run
        e.start("x1")
        self.assertTrue(wait_for(lambda: e.troupe("nodes").returncode == 0,
                                 10), e.logtext("x1"))
        nodes = json.loads(e.troupe("nodes", "--json").stdout)
        self.assertEqual([(n["name"], n["endpoint"]) for n in nodes],
                         [("x1", "")])          # discovery off
        self.assertIn("zeroconf=no", e.logtext("x1"))
        self.assertFalse(os.path.exists(e.base))

    def test_check_config_prints_the_zero_config_defaults(self):
        e = self.world()
        r = subprocess.run([os.path.join(e.bin, "trouped"), "--node", "z1",
                            "--check-config", "--print"], env=e.env,
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in ("listen = tcp://127.0.0.1:0", "discovery = multicast",
                     "group = auto", "run_dir = %s/z1" % e.base):
            self.assertIn(line + "\n", r.stdout)
        r = subprocess.run([os.path.join(e.bin, "trouped"), "--node", "z1",
                            "--set", "cluster.seeds=h:7447",
                            "--set", "cluster.discovery=seeds",
                            "--check-config", "--print"], env=e.env,
                           capture_output=True, text=True, timeout=10)
        self.assertIn("listen = tcp://0.0.0.0:0\n", r.stdout)
        self.assertIn("discovery = seeds\n", r.stdout)

    def test_root_base_ignores_a_runtime_dir_not_its_own(self):
        """As root, BASE is $XDG_RUNTIME_DIR/troupe only when root owns
        that dir (`sudo -E` may pass a user's), else /run/troupe-local;
        nothing is created by --check-config."""
        user = self.other_user()
        e = self.world()
        os.chown(e.env["XDG_RUNTIME_DIR"], *user)

        def run_dir(env):
            r = subprocess.run([os.path.join(e.bin, "trouped"), "--node",
                                "z1", "--check-config", "--print"],
                               env=env, capture_output=True, text=True,
                               timeout=10)
            return re.search(r"^run_dir = (.*)$", r.stdout, re.M).group(1)
        self.assertEqual(run_dir(e.env), "/run/troupe-local/z1")
        env = dict(e.env)
        env.pop("XDG_RUNTIME_DIR")
        self.assertEqual(run_dir(env), "/run/troupe-local/z1")


if __name__ == "__main__":
    unittest.main()
