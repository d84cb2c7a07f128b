"""Step 6: the distroless image without Docker.  A root file system that
holds only what deploy/Dockerfile copies (the binaries, the libraries ldd
lists, the dynamic loader: no shell, no coreutils) runs a broker as PID 1
of a new PID namespace and the CLI, both as uid 65532, with
`unshare --mount --pid --fork chroot --userspec=65532:65532`; an ask
round-trips.  Anything in troupe that needed /bin/sh would fail here."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

from troupetest import BIN, children_of, kill_pids, marked_pids

UID = 65532
PORT = 17485        # node.listen, in this engineer's range


def ldd_paths(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                         check=True).stdout
    return set(re.findall(r"(/\S+\.so[^\s]*)", out))


def install(src, dst, mode):
    """Copies src to dst with mode, making the dirs above 0755: uid 65532
    must read all of it whatever the umask or the checkout's modes."""
    parent = os.path.dirname(dst)
    if not os.path.isdir(parent):
        install_dir(parent)
    shutil.copyfile(src, dst)
    os.chmod(dst, mode)


def install_dir(path):
    if not os.path.isdir(os.path.dirname(path)):
        install_dir(os.path.dirname(path))
    os.mkdir(path)
    os.chmod(path, 0o755)


def build_rootfs(root):
    libs = set()
    for name in sorted(os.listdir(BIN)):
        src = os.path.join(BIN, name)
        if not (name == "trouped" or name.startswith("troupe")):
            continue
        install(src, os.path.join(root, "usr/bin", name), 0o755)
        libs |= ldd_paths(src)
    for lib in libs:
        install(os.path.realpath(lib), root + lib, 0o755)
    install_dir(os.path.join(root, "run"))
    run = os.path.join(root, "run/troupe")
    os.mkdir(run, 0o700)
    os.chown(run, UID, UID)
    return libs


@unittest.skipUnless(os.geteuid() == 0, "needs root: chroot/unshare as "
                     "uid 65532 (run make test as root)")
@unittest.skipUnless(shutil.which("unshare") and shutil.which("chroot"),
                     "needs util-linux unshare and coreutils chroot")
@unittest.skipIf(os.environ.get("TROUPE_SANITIZE"),
                 "sanitizer build: its runtime needs /proc, which the bare "
                 "root fs lacks; plain `make test` runs this test")
class TestDistroless(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="troupe-rootfs-")
        os.chmod(self.root, 0o755)
        self.addCleanup(shutil.rmtree, self.root, True)
        self.libs = build_rootfs(self.root)
        # a bare environment, as in the image, plus the marks that let the
        # cleanups (and the suite's guard) find what outlives the test
        tag = uuid.uuid4().hex
        self.addCleanup(lambda: kill_pids(marked_pids("TROUPE_TEST_TAG",
                                                      tag)))
        self.env = {"TROUPE_RUN_DIR": "/run/troupe", "PATH": "/usr/bin",
                    "TROUPE_TEST_TAG": tag}
        for mark in ("TROUPE_TEST_RUN", "TROUPE_TEST_ID"):
            if mark in os.environ:
                self.env[mark] = os.environ[mark]
        self.log = open(os.path.join(self.root, "..",
                                     os.path.basename(self.root) + ".log"),
                        "w+")
        self.addCleanup(os.unlink, self.log.name)
        self.addCleanup(self.log.close)

    def jail(self, *argv, pidns=False):
        cmd = [shutil.which("unshare"), "--mount", "--fork"]
        if pidns:
            cmd.insert(2, "--pid")
        return cmd + [shutil.which("chroot"), "--userspec=%d:%d" % (UID, UID), self.root,
                      *argv]

    def cli(self, *args):
        return subprocess.run(self.jail("/usr/bin/troupe", *args),
                              env=self.env, capture_output=True, text=True,
                              timeout=60)

    def start(self):
        p = subprocess.Popen(self.jail("/usr/bin/trouped", "--node", "d1",
                                       "--listen",
                                       "tcp://127.0.0.1:%d" % PORT,
                                       pidns=True),
                             env=self.env, stdout=self.log,
                             stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, p)
        return p

    def stop(self, p):
        """SIGTERM to trouped (PID 1 inside, a child of unshare outside);
        SIGKILL of it ends the namespace and every actor in it."""
        kids = children_of(p.pid)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in kids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                p.wait(15)
                return
            except subprocess.TimeoutExpired:
                pass
        p.kill()
        p.wait()

    def logtext(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def test_rootfs_has_no_shell(self):
        for sh in ["bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/env",
                   "bin/ls"]:
            self.assertFalse(os.path.exists(os.path.join(self.root, sh)))
        self.assertTrue(any("ld-linux" in l for l in self.libs), self.libs)

    def test_ask_round_trips_in_the_rootfs_as_65532(self):
        p = self.start()
        deadline = time.time() + 20
        while True:
            self.assertIsNone(p.poll(), self.logtext())
            r = self.cli("actors", "--json")
            if r.returncode == 0 and all(a["state"] == "running" for a in
                                         json.loads(r.stdout)):
                break
            self.assertLess(time.time(), deadline, r.stderr +
                            self.logtext())
            time.sleep(0.2)
        actors = json.loads(r.stdout)
        self.assertIn("echo", {a["name"] for a in actors})
        r = self.cli("ask", "echo", '{"from":"distroless"}')
        self.assertEqual((r.returncode, r.stdout.strip()),
                         (0, '{"from":"distroless"}'), r.stderr)
        # the broker and its actors run as 65532
        pid = children_of(p.pid)[0]
        with open("/proc/%d/status" % pid) as f:
            uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
        self.assertEqual(set(uids), {str(UID)})
        self.stop(p)
        self.assertEqual(p.returncode, 0, self.logtext())
        self.assertIn("trouped stopped", self.logtext())
