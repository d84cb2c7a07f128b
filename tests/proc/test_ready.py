"""Cluster readiness users can rely on (issue 12, part 4): a request to
name@node, or to a bare name only a peer has, that arrives while the
member is alive but its link (or its names table) is still coming up
waits for it within its own timeout instead of failing at once; `troupe
nodes` says "alive" only when the member is routable.

Each test starts its own nodes with real trouped processes in their own
run dirs, on free ports of 127.0.0.1, in a multicast group of its own
(239.255.<random>.<random>) and with a key of its own."""
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from troupetest import Broker, binpath, wait_for, write_key
from test_cluster import conf, nodes_of

# the cluster's clock as the finding had it: beacons every second (the
# default), so a member is alive well before its link is up; silences
# are declared quickly enough for a test
TIMING = dict(beacon="1s", suspect="3s", dead="4500ms")


def free_port(kind=socket.SOCK_STREAM):
    """A port nobody listens on now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_group():
    return "239.255.%d.%d:%d" % (random.randint(1, 254),
                                 random.randint(1, 254),
                                 free_port(socket.SOCK_DGRAM))


class ReadyTest(unittest.TestCase):
    def setUp(self):
        self.keydir = tempfile.mkdtemp(prefix="troupe-ready-key-")
        self.addCleanup(shutil.rmtree, self.keydir, True)
        self.key = write_key(os.path.join(self.keydir, "cluster.key"))
        self.group = own_group()
        self.nodes = []
        self.addCleanup(self.stop_all)

    def stop_all(self):
        """Stops every node still running, each once, by pid."""
        while self.nodes:
            self.nodes.pop().cleanup()

    def node_conf(self, name, extra="", timing=TIMING, port=None):
        return conf(name, "127.0.0.1", port or free_port(),
                    group=self.group, key=self.key, timing=timing,
                    extra=extra)

    def spawn(self, text, name):
        """Starts trouped without waiting for anything but its control
        socket; stopped by pid when the test ends, however it ends."""
        b = Broker(text, (), name)
        self.nodes.append(b)
        return b

    def ready(self, b):
        b.wait_ready()
        return b

    def cluster(self, extras=("", "", "")):
        """n1..n3 started one after the other, as a user does (each once
        its control socket answers); returns them at once."""
        return [self.ready(self.spawn(self.node_conf("n%d" % (i + 1),
                                                     extras[i]),
                                      "n%d" % (i + 1))) for i in range(3)]

    def ask(self, b, to, body, timeout="3s"):
        t0 = time.time()
        r = b.cli("ask", to, body, "--timeout", timeout, check=False)
        return r, time.time() - t0


def all_alive(b, names):
    ns = nodes_of(b)
    return all(ns.get(n, {}).get("state") == "alive" for n in names)


class TestFinding(ReadyTest):
    def test_alive_members_answer_at_once(self):
        """The finding: the moment `troupe nodes --json` lists every
        member alive, asks to echo@n3 and echo@n2 must be answered (on
        the old code 'unreachable (no link yet)' in most rounds)."""
        failures = []
        rounds = 3
        for rnd in range(rounds):
            self.group = own_group()
            n1, n2, n3 = self.cluster()
            self.assertTrue(wait_for(lambda: all_alive(
                n1, ["n1", "n2", "n3"]), 5.0, step=0.01),
                "members not alive: %s" % nodes_of(n1))
            for to in ("echo@n3", "echo@n2"):
                r, took = self.ask(n1, to, '{"round":%d}' % rnd)
                if r.returncode != 0 or \
                        json.loads(r.stdout) != {"round": rnd}:
                    failures.append("round %d %s: exit %d after %.2f s: "
                                    "%s" % (rnd, to, r.returncode, took,
                                            r.stderr.strip()))
            self.stop_all()
        print("\n%d of %d asks right after 'alive' failed"
              % (len(failures), 2 * rounds))
        self.assertEqual(failures, [])


if __name__ == "__main__":
    unittest.main()
