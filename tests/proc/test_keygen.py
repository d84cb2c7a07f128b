"""`troupe keygen` on real files and a real trouped: 32 bytes, mode 0600,
no overwrite without --force; trouped takes the key, and a copy others
may read stops it with one line before anything is opened.  Ports
127.0.0.1:17641-17649, multicast 239.255.79.1:17645."""
import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from troupetest import NOBODY, Broker, as_uid, binpath, copy_for_uid

GROUP = "239.255.79.1:17645"


def conf(key, port, discovery="multicast"):
    return ("[node]\nname = k1\nlisten = tcp://127.0.0.1:%d\n"
            "[cluster]\ndiscovery = %s\ngroup = %s\ninterface = 127.0.0.1\n"
            "key_file = %s\n[actor echo]\nexec = troupe-echo\n"
            % (port, discovery, GROUP, key))


class KeygenTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="troupe-keygen-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def keygen(self, *args, env=None, preexec_fn=None, troupe=None):
        return subprocess.run([troupe or binpath("troupe"), "keygen"] +
                              list(args),
                              capture_output=True, text=True, timeout=30,
                              env=env, preexec_fn=preexec_fn)

    def assertKey(self, path):
        st = os.stat(path)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_size, 32)
        with open(path, "rb") as f:
            return f.read()

    def test_writes_0600_key_and_refuses_overwrite(self):
        path = os.path.join(self.dir, "sub", "dir", "cluster.key")
        r = self.keygen(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, os.path.realpath(path) + "\n")
        self.assertEqual(r.stderr, "")
        key = self.assertKey(path)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path))
                                      .st_mode), 0o700)
        r = self.keygen(path)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "troupe: %s exists; use --force to "
                         "replace it\n" % path)
        self.assertEqual(r.stdout, "")
        self.assertEqual(self.assertKey(path), key)

    def test_force_replaces_and_json(self):
        path = os.path.join(self.dir, "cluster.key")
        self.assertEqual(self.keygen(path).returncode, 0)
        old = self.assertKey(path)
        r = self.keygen("--json", path, "--force")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout),
                         {"path": os.path.realpath(path)})
        self.assertNotEqual(self.assertKey(path), old)
        self.assertEqual(sorted(os.listdir(self.dir)), ["cluster.key"])

    def test_usage_and_help(self):
        r = self.keygen("a", "b")
        self.assertEqual(r.returncode, 64)
        r = self.keygen("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--force", r.stdout)

    def test_default_path_is_per_user(self):
        """Without FILE, the file trouped uses by default; as root the
        test runs as nobody so that /etc/troupe is never touched."""
        home = os.path.join(self.dir, "home")
        os.mkdir(home, 0o700)
        env = dict(os.environ, HOME=home)
        env.pop("XDG_CONFIG_HOME", None)
        drop = troupe = None
        if os.geteuid() == 0:
            # nobody runs a copy: the build tree may be out of its reach
            troupe = os.path.join(copy_for_uid(self, NOBODY, ["troupe"]),
                                  "troupe")
            os.chown(home, NOBODY, NOBODY)
            os.chmod(self.dir, 0o711)     # in the temp dir it checked
            drop = as_uid(NOBODY)
        r = self.keygen(env=env, preexec_fn=drop, troupe=troupe)
        self.assertEqual(r.returncode, 0, r.stderr)
        want = os.path.join(home, ".config", "troupe", "cluster.key")
        self.assertEqual(r.stdout.strip(), want)
        self.assertKey(want)


class TroupedKeyTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="troupe-keygen-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.key = os.path.join(self.dir, "cluster.key")
        r = subprocess.run([binpath("troupe"), "keygen", self.key],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def broker(self, text):
        b = Broker(text, (), "k1")
        self.addCleanup(b.cleanup)
        return b

    def test_trouped_accepts_keygen_key(self):
        b = self.broker(conf(self.key, 17641))
        b.wait_ready()
        self.assertIn("discovery started", b.logtext())
        self.assertNotIn("cluster key created", b.logtext())

    def test_loose_copy_refused_before_anything_opens(self):
        copy = os.path.join(self.dir, "copy.key")
        shutil.copyfile(self.key, copy)
        os.chmod(copy, 0o644)
        b = self.broker(conf(copy, 17642))
        self.assertEqual(b.proc.wait(20), 1)
        lines = b.logtext().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("level=error", lines[0])
        self.assertIn("cluster key", lines[0])
        self.assertIn("0644", lines[0])
        self.assertIn("chmod 600", lines[0])
        # nothing was started: no run dir, no control socket
        self.assertFalse(os.path.exists(b.run_dir))

    def test_discovery_off_reads_no_key(self):
        """The key only serves the cluster: a single node does not read
        (nor create) one."""
        os.chmod(self.key, 0o644)
        b = self.broker(conf(self.key, 17643, discovery="off"))
        b.wait_ready()
        self.assertNotIn("cluster key", b.logtext())


if __name__ == "__main__":
    unittest.main()
