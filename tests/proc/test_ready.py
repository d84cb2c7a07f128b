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
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from troupetest import BIN, Broker, binpath, wait_for, write_key
from test_cluster import conf, nodes_of

CRASHY = os.path.join(BIN, "..", "tests", "bin", "crashy")

# the cluster's clock as the finding had it: beacons every second (the
# default), so a member is alive well before its link is up; silences
# are declared quickly enough for a test
TIMING = dict(beacon="1s", suspect="3s", dead="4500ms")


HANDED_OUT = set()


def free_port(kind=socket.SOCK_STREAM):
    """A port nobody listens on now (the kernel's pick), never one this
    run handed out before: the kernel may pick a closed port again."""
    while True:
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in HANDED_OUT:
            HANDED_OUT.add(port)
            return port


def own_group():
    return "239.255.%d.%d:%d" % (random.randint(1, 254),
                                 random.randint(1, 254),
                                 free_port(socket.SOCK_DGRAM))


class Gate:
    """A TCP forwarder on 127.0.0.1 that the test opens when it likes: a
    node advertising the gate's port is alive (its beacons arrive) but
    cannot be linked to until the gate opens.  Real sockets, its own
    threads; closed when the test ends."""

    def __init__(self, target_port):
        # bound at once (the port stays ours), listening only once open:
        # until then a dial is refused
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        HANDED_OUT.add(self.port)
        self.target = target_port
        self.socks = []
        self.lock = threading.Lock()

    def open(self):
        self.lsock.listen(16)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pump, args=(a, b),
                                 daemon=True).start()

    @staticmethod
    def pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        try:  # wakes the accepting thread (close alone does not)
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        with self.lock:
            for s in self.socks:
                s.close()


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

    def node_conf(self, name, extra="", timing=TIMING, port=None,
                  advertise=None, node_extra=""):
        text = conf(name, "127.0.0.1", port or free_port(),
                    group=self.group, key=self.key, timing=timing,
                    extra=extra)
        if advertise is not None:
            node_extra += "advertise = tcp://127.0.0.1:%d\n" % advertise
        return text.replace("[cluster]\n", node_extra + "\n[cluster]\n", 1)

    def gated_pair(self, extra1="", extra2="", timing=TIMING, node1=""):
        """n1, and n2 behind a closed gate: n1 sees n2 alive but its
        link to n2 cannot come up until the test opens the gate."""
        port2 = free_port()
        gate = Gate(port2)
        self.addCleanup(gate.close)
        n1 = self.ready(self.spawn(self.node_conf(
            "n1", extra1, timing=timing, node_extra=node1), "n1"))
        n2 = self.ready(self.spawn(self.node_conf(
            "n2", extra2, timing=timing, port=port2,
            advertise=gate.port), "n2"))
        self.assertTrue(wait_for(lambda: all_alive(n1, ["n2"]), 5.0),
                        "n2 not alive on n1: %s" % nodes_of(n1))
        return n1, n2, gate

    def assert_waiting(self, p):
        """p (a CLI in the background) has not answered yet."""
        if p.poll() is not None:
            out, err = p.communicate()
            self.fail("did not wait: exit %d: %s %s" % (p.returncode,
                                                       out, err))

    def background(self, b, *args):
        """The CLI run in its own process (stopped by pid at the end)."""
        p = subprocess.Popen([binpath("troupe")] + list(args), env=b.env,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.addCleanup(stop_proc, p)
        return p

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


def stop_proc(p):
    if p.poll() is None:
        p.kill()
    p.communicate()


def all_alive(b, names):
    ns = nodes_of(b)
    return all(ns.get(n, {}).get("state") == "alive" for n in names)


class TestFinding(ReadyTest):
    def test_alive_members_answer_at_once(self):
        """The finding: the moment `troupe nodes --json` lists every
        member alive, asks to echo@n3 and echo@n2 must be answered (on
        the old code 'unreachable (no link yet)' in most rounds)."""
        failures, slowest = [], 0.0
        rounds = 3
        for rnd in range(rounds):
            self.group = own_group()
            n1, n2, n3 = self.cluster()
            self.assertTrue(wait_for(lambda: all_alive(
                n1, ["n1", "n2", "n3"]), 5.0, step=0.01),
                "members not alive: %s" % nodes_of(n1))
            for to in ("echo@n3", "echo@n2"):
                r, took = self.ask(n1, to, '{"round":%d}' % rnd)
                slowest = max(slowest, took)
                if r.returncode != 0 or \
                        json.loads(r.stdout) != {"round": rnd}:
                    failures.append("round %d %s: exit %d after %.2f s: "
                                    "%s" % (rnd, to, r.returncode, took,
                                            r.stderr.strip()))
            self.stop_all()
        print("\n%d of %d asks right after 'alive' failed, slowest "
              "%.2f s" % (len(failures), 2 * rounds, slowest))
        self.assertEqual(failures, [])


class TestWaitForLink(ReadyTest):
    def test_ask_and_send_wait_for_the_link(self):
        """name@node of a member alive but not linked yet: the ask and
        the send wait, and go out when the link comes up."""
        n1, n2, gate = self.gated_pair()
        t0 = time.time()
        ask = self.background(n1, "ask", "echo@n2", '{"k":1}',
                              "--timeout", "6s")
        send = self.background(n1, "send", "sink@n2", '{"k":2}',
                               "--timeout", "6s")
        time.sleep(1.0)
        self.assert_waiting(ask)
        self.assert_waiting(send)
        held = json.loads(n1.cli("stats", "--json").stdout)
        self.assertGreaterEqual(held["link_waits"], 2)
        gate.open()
        out, err = ask.communicate(timeout=10)
        took = time.time() - t0
        self.assertEqual(ask.returncode, 0, err)
        self.assertEqual(json.loads(out), {"k": 1})
        out, err = send.communicate(timeout=10)
        self.assertEqual(send.returncode, 0, err)
        self.assertTrue(out.strip().isdigit(), out)
        self.assertTrue(wait_for(lambda: json.loads(n2.cli(
            "inspect", "sink", "--json").stdout)["received"] == 1, 3.0))
        print("\nask answered %.2f s after it was made (gate opened at "
              "1 s)" % took)
        self.assertGreater(took, 1.0)

    def test_actor_sends_wait_in_order(self):
        """An actor's SENDs to name@node while the link comes up are not
        lost (ERROR 7 on the old code) and arrive in order."""
        rec = os.path.join(self.keydir, "rec.txt")
        fwd = "\n[actor fwd]\nexec = %s -f rec@n2\n" % CRASHY
        recv = "\n[actor rec]\nexec = %s -o %s\n" % (CRASHY, rec)
        n1, n2, gate = self.gated_pair(extra1=fwd, extra2=recv)
        n1.cli("send", "fwd", "-", input="".join(
            "%d\n" % i for i in range(50)))
        time.sleep(0.5)
        self.assertFalse(os.path.exists(rec) and os.path.getsize(rec))
        gate.open()

        def got():
            try:
                with open(rec) as f:
                    return [int(l.split()[0]) for l in f]
            except OSError:
                return []
        wait_for(lambda: len(got()) >= 50, 5.0)
        self.assertEqual(got(), list(range(50)))

    def test_bare_name_waits_for_names(self):
        """A bare name only n2 has, asked while n2's link (and so its
        names table) is on its way: answered once the names arrive; on
        the settled cluster an unknown name still fails fast."""
        only = "\n[actor only2]\nexec = troupe-echo\n"
        n1, n2, gate = self.gated_pair(extra2=only)
        ask = self.background(n1, "ask", "only2", '"hi"', "--timeout",
                              "6s")
        time.sleep(0.5)
        self.assert_waiting(ask)
        gate.open()
        out, err = ask.communicate(timeout=10)
        self.assertEqual(ask.returncode, 0, err)
        self.assertEqual(json.loads(out), "hi")
        self.assertTrue(wait_for(lambda: nodes_of(n1)["n2"]["routable"],
                                 3.0))
        r, took = self.ask(n1, "nosuch", "1")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("unknown actor 'nosuch'", r.stderr)
        self.assertLess(took, 1.0)


class TestBound(ReadyTest):
    def test_full_wait_list_refuses_at_once_and_counts(self):
        """Five actors forward 300 messages each to rec@n2 while n2 is
        not linked: 1024 wait (one link window), further ones are refused
        at once and counted (an actor whose 256 credits all wait stops
        sending: its window); at link-up the held and the stopped ones
        arrive, the refused ones not."""
        rec = os.path.join(self.keydir, "rec.txt")
        fwd = "".join("\n[actor fwd%d]\nexec = %s -f rec@n2\n"
                      % (i, CRASHY) for i in range(5))
        recv = "\n[actor rec]\nexec = %s -o %s\nmailbox = 2048\n" \
            % (CRASHY, rec)
        n1, n2, gate = self.gated_pair(extra1=fwd, extra2=recv)
        t0 = time.time()
        for i in range(5):
            n1.cli("send", "fwd%d" % i, "-", input="".join(
                "%d\n" % (i * 1000 + k) for k in range(300)))

        def stats():
            return json.loads(n1.cli("stats", "--json").stdout)
        self.assertTrue(wait_for(lambda: stats()["link_waits"] == 1024
                                 and stats()["link_wait_full"] > 0, 15.0),
                        stats())
        time.sleep(0.3)
        st = stats()
        print("\n1500 forwards: %d held, %d refused at once (%.2f s)"
              % (st["link_waits"], st["link_wait_full"], time.time() - t0))
        self.assertEqual(st["link_waits"], 1024)
        refused = st["link_wait_full"]
        gate.open()

        def got():
            try:
                with open(rec) as f:
                    return len(f.read().splitlines())
            except OSError:
                return 0
        self.assertTrue(wait_for(lambda: got() >= 1500 - refused, 10.0),
                        got())
        time.sleep(0.3)
        self.assertEqual(got(), 1500 - refused)
        self.assertEqual(stats()["link_wait_full"], refused)


class TestNeverReady(ReadyTest):
    def test_unknown_node_fails_at_once(self):
        n1 = self.ready(self.spawn(self.node_conf("n1"), "n1"))
        r, took = self.ask(n1, "echo@n9", "1")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("node 'n9' is unreachable (not a member", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        self.assertLess(took, 1.0)

    def test_link_that_never_comes_times_out(self):
        """A member alive whose link never comes up: the CLI's own
        timeout, the usual exit 75, not sooner."""
        n1, n2, gate = self.gated_pair()
        r, took = self.ask(n1, "echo@n2", "1", timeout="1500ms")
        self.assertEqual(r.returncode, 75, r.stderr)
        self.assertIn("timed out after 1500ms", r.stderr)
        self.assertGreater(took, 1.4)

    def test_wait_ends_at_the_ask_ttl(self):
        """The broker's own bound: a request waits for a link at most the
        ask ttl, then ERROR 5 (exit 75), counted."""
        n1, n2, gate = self.gated_pair(node1="ask_ttl = 1s\n")
        ask = self.background(n1, "ask", "echo@n2", "1", "--timeout", "5s")
        send = self.background(n1, "send", "sink@n2", "2", "--timeout",
                               "5s")
        t0 = time.time()
        for p in (ask, send):
            out, err = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 75, err)
            self.assertIn("no link to node 'n2' within the ask ttl", err)
        took = time.time() - t0
        self.assertGreater(took, 0.8)
        self.assertLess(took, 3.0)
        st = json.loads(n1.cli("stats", "--json").stdout)
        self.assertEqual((st["link_waits"], st["link_wait_timeouts"]),
                         (2, 2))

    def test_unknown_name_while_linking_fails_after_suspect_after(self):
        """A bare name nobody has, asked while a member is still linking,
        waits at most suspect_after (a link not up by then is broken, not
        coming), then hears 'unknown actor' (exit 1) - not a timeout."""
        fast = dict(beacon="200ms", suspect="1s", dead="60s")
        n1, n2, gate = self.gated_pair(timing=fast)
        r, took = self.ask(n1, "nosuch", "1", timeout="5s")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("unknown actor 'nosuch' (no node announced it)",
                      r.stderr)
        self.assertGreater(took, 0.8)
        self.assertLess(took, 3.0)

    def test_member_declared_dead_while_waiting(self):
        """What waits for a member that goes silent hears ERROR 7 when
        the member is no longer alive, within the request's timeout."""
        fast = dict(beacon="200ms", suspect="1s", dead="1500ms")
        n1, n2, gate = self.gated_pair(timing=fast)
        ask = self.background(n1, "ask", "echo@n2", "1", "--timeout",
                              "8s")
        time.sleep(0.3)
        self.assert_waiting(ask)
        t0 = time.time()
        n2.proc.send_signal(signal.SIGKILL)
        out, err = ask.communicate(timeout=10)
        took = time.time() - t0
        self.assertEqual(ask.returncode, 1, err)
        self.assertIn("node 'n2' is unreachable", err)
        print("\nwaiting ask failed %.2f s after n2 was killed" % took)
        self.assertLess(took, 4.0)


class TestNodesShowsLinking(ReadyTest):
    def test_linking_then_alive(self):
        n1, n2, gate = self.gated_pair()
        j = nodes_of(n1)["n2"]
        self.assertEqual((j["state"], j["routable"]), ("alive", False))
        self.assertIn(j["link"], ("down", "hello"))
        self.assertEqual(nodes_of(n1)["n1"]["routable"], True)
        rows = {l.split()[0]: l.split()[1] for l in
                n1.cli("nodes").stdout.splitlines()[1:]}
        self.assertEqual(rows["n2"], "alive/linking")
        self.assertEqual(rows["n1"], "alive")
        gate.open()
        self.assertTrue(wait_for(lambda: nodes_of(n1)["n2"]["routable"],
                                 5.0), nodes_of(n1))
        j = nodes_of(n1)["n2"]
        self.assertEqual((j["state"], j["link"]), ("alive", "up"))
        rows = {l.split()[0]: l.split()[1] for l in
                n1.cli("nodes").stdout.splitlines()[1:]}
        self.assertEqual(rows["n2"], "alive")


if __name__ == "__main__":
    unittest.main()
