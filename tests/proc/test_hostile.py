"""Hostile local peers (issue 12): every socket and port a default node
and a clustered node open gets every nng protocol, raw bytes, the poison
frames and connect/drop floods (build/tests/bin/hostile); then no actor
restarted, every actor answers, a peer link still carries asks, the
broker's RSS stayed bounded, and the refusals were counted.

Ports 127.0.0.1:17701-17709 and group 239.255.81.1:17710 are this
test's; its key is its own."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from troupetest import BIN, Broker, rss_kib, wait_for, write_key
from test_cluster import conf, formed

# next to the binaries under test, as crashy is (BUILD/bin/../tests/bin):
# the sanitizer build's own hostile under `make sanitize`
HOSTILE = os.path.join(os.environ.get(
    "TROUPE_TESTS_BIN", os.path.join(BIN, "..", "tests",
    "bin")), "hostile")
GROUP = "239.255.81.1:17710"
RSS_BOUND_KIB = 32 * 1024    # growth allowed over the whole attack
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "fuzz", "corpus")


def attack(url, seconds=4, flood=150):
    """Runs the tool against url; returns (connections tried, output)."""
    cmd = [HOSTILE, "-n", str(flood), "-t", str(seconds)]
    if os.path.isdir(CORPUS):
        cmd += ["-c", CORPUS]
    r = subprocess.run(cmd + [url], capture_output=True, text=True,
                       timeout=seconds + 30)
    tried = 0
    for line in r.stdout.splitlines():
        if line.startswith("total tried="):
            tried = int(line.split("=")[1])
    return tried, r.stdout


def stats(b):
    return json.loads(b.cli("stats", "--json").stdout)


@unittest.skipUnless(os.path.exists(HOSTILE), "build/tests/bin/hostile "
                     "missing (make test builds it)")
class HostilePeers(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="troupe-hostile-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        key = write_key(os.path.join(self.dir, "cluster.key"))
        self.nodes = []
        for i, name in enumerate(("h1", "h2")):
            b = Broker(conf(name, "127.0.0.1", 17701 + i, group=GROUP,
                            key=key), node=name)
            self.addCleanup(b.cleanup)
            b.wait_ready()
            self.nodes.append(b)
        self.assertTrue(wait_for(lambda: formed(self.nodes, ["h1", "h2"]),
                                 15), self.nodes[0].logtext())
        self.b = self.nodes[0]

    def local(self):
        actors = json.loads(self.b.cli("actors", "--json").stdout)
        return {a["name"]: a for a in actors if a.get("node") == "h1"}

    def check_undisturbed(self, before):
        after = self.local()
        for name, a in before.items():
            self.assertEqual(after[name]["pid"], a["pid"], name)
            self.assertEqual(after[name]["restarts"], 0, name)
            self.assertEqual(after[name]["state"], "running", name)
        r = self.b.cli("ask", "echo", '"still"', "--timeout", "5s")
        self.assertEqual(r.stdout.strip(), '"still"')
        r = self.b.cli("ask", "echo@h2", '"across"', "--timeout", "5s")
        self.assertEqual(r.stdout.strip(), '"across"')
        self.b.cli("send", "sink", '{"n":1}', "--timeout", "5s")

    def test_every_socket_and_port(self):
        b = self.b
        before = self.local()
        self.assertGreaterEqual(len(before), 2, before)
        rss0 = rss_kib(b.pid)
        s0 = stats(b)
        run = b.run_dir
        targets = [("control", "ipc://%s/ctl.sock" % run),
                   ("tap", "ipc://%s/tap.sock" % run)]
        for name in sorted(os.listdir(os.path.join(run, "mbx"))):
            targets.append(("mailbox " + name,
                            "ipc://%s/mbx/%s" % (run, name)))
        targets += [("peer tcp", "tcp://127.0.0.1:17701"),
                    ("beacon udp", "udp://127.0.0.1:17701"),
                    ("multicast group", "udp://" + GROUP)]
        figures = []
        t0 = time.monotonic()
        for what, url in targets:
            tried, out = attack(url)
            self.assertGreater(tried, 0, out)
            figures.append((what, tried))
            # between attacks: the CLI still gets through at once
            r = b.cli("stats", "--timeout", "5s", check=False)
            self.assertEqual(r.returncode, 0, (what, r.stderr))
        took = time.monotonic() - t0
        time.sleep(1.0)    # link events, if any, are handled by now
        self.check_undisturbed(before)
        self.assertTrue(wait_for(lambda: formed(self.nodes, ["h1", "h2"]),
                                 10))
        rss1 = rss_kib(b.pid)
        s1 = stats(b)
        grew = {k: s1[k] - s0[k] for k in s1
                if isinstance(s1[k], int) and k in s0 and s1[k] != s0[k]
                and (k.startswith("refused") or k.startswith("beacons_")
                     or k in ("bad_frames", "link_frames_stray",
                              "link_handshakes_failed"))}
        print("\nhostile: %.1f s; tried per socket: %s" % (took, ", ".join(
            "%s=%d" % f for f in figures)))
        print("hostile: counted %s" % json.dumps(grew, sort_keys=True))
        print("hostile: restarts 0, RSS %d -> %d KiB" % (rss0, rss1))
        self.assertGreater(s1["refused_mailbox"], s0["refused_mailbox"])
        self.assertGreater(s1["bad_frames"], s0["bad_frames"])
        self.assertGreater(s1["beacons_malformed"], s0["beacons_malformed"])
        self.assertLess(rss1 - rss0, RSS_BOUND_KIB)
        self.assertNotIn("mailbox link dropped", b.logtext())


if __name__ == "__main__":
    unittest.main()
