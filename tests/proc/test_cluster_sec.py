"""Step 5 on real processes: authenticated beacons, encrypted peer links.
Ports 17501-17519 and multicast 239.255.77.x:17520-17529 on 127.0.0.1
only.  A node with another key or cluster name never becomes a member; a
replayed beacon is counted and changes nothing; a byte flipped on a peer
link (by a proxy the test runs between n1 and n2) resets the link, which
comes back, and no corrupted message reaches an actor; a key file others
may read stops trouped with one line."""
import json
import os
import shutil
import socket
import struct
import tempfile
import threading
import time
import unittest

from troupetest import Broker, wait_for, write_key

TIMING = "beacon_interval = 200ms\nsuspect_after = 1s\ndead_after = 3s\n"


def conf(name, port, key, group, extra_node="", extra_cluster=""):
    return ("[node]\nname = %s\nlisten = tcp://127.0.0.1:%d\n%s\n"
            "[cluster]\ndiscovery = multicast\ngroup = %s\n"
            "interface = 127.0.0.1\nkey_file = %s\n%s%s\n"
            "[actor echo]\nexec = troupe-echo\n"
            % (name, port, extra_node, group, key, TIMING, extra_cluster))


def nodes_of(b):
    r = b.cli("nodes", "--json", check=False)
    return {n["name"]: n for n in json.loads(r.stdout)} \
        if r.returncode == 0 else {}


def stats_of(b):
    return json.loads(b.cli("stats", "--json").stdout)


def linked(a, name):
    n = nodes_of(a).get(name)
    return n is not None and n["state"] == "alive" and n["link"] == "up"


def mcast_socket(group, port):
    """A UDP socket in the group on 127.0.0.1, like the brokers'."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", port))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                 socket.inet_aton("127.0.0.1"))
    s.settimeout(5)
    return s


class FlipProxy:
    """TCP proxy in front of a peer listener.  It follows nng's SP-over-TCP
    framing (8-byte header, then 8-byte big-endian length + message; pair1
    puts a 4-byte header before the frame) and, once armed, flips one
    byte in the middle of the next large sealed frame ('S')."""

    def __init__(self, listen_port, target_port):
        self.target = target_port
        self.arm = threading.Event()
        self.flipped = threading.Event()
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", listen_port))
        self.lsock.listen(8)
        self.stop = False
        self.socks = []
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.stop:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(("127.0.0.1", self.target))
            except OSError:         # n2 not listening yet: n1 redials
                c.close()
                continue
            self.socks += [c, s]
            threading.Thread(target=self.pump, args=(c, s, True),
                             daemon=True).start()
            threading.Thread(target=self.pump, args=(s, c, False),
                             daemon=True).start()

    @staticmethod
    def read(src, n):
        buf = b""
        while len(buf) < n:
            chunk = src.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def pump(self, src, dst, framed):
        try:
            if not framed:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
                return
            dst.sendall(self.read(src, 8))          # SP header
            while True:
                head = self.read(src, 8)
                msg = bytearray(self.read(src, struct.unpack(">Q",
                                                             head)[0]))
                if self.arm.is_set() and len(msg) > 400 and \
                        msg[4] == ord("S"):
                    msg[len(msg) // 2] ^= 0x01
                    self.arm.clear()
                    self.flipped.set()
                dst.sendall(head + bytes(msg))
        except (EOFError, OSError):
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.lsock.close()
        for s in self.socks:
            s.close()


class SecTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="troupe-sec-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.key = write_key(os.path.join(self.dir, "a.key"))

    def start(self, text, name):
        b = Broker(text, (), name)
        self.addCleanup(b.cleanup)
        b.wait_ready()
        return b


class TestMembership(SecTest):
    def test_other_key_and_other_cluster_never_members(self):
        group = "239.255.77.11"
        g = "%s:17521" % group
        other = write_key(os.path.join(self.dir, "b.key"))
        n1 = self.start(conf("n1", 17501, self.key, g), "n1")
        n2 = self.start(conf("n2", 17502, self.key, g), "n2")
        n3 = self.start(conf("n3", 17503, other, g), "n3")
        n4 = self.start(conf("n4", 17504, self.key, g,
                             extra_cluster="name = other\n"), "n4")
        self.assertTrue(wait_for(lambda: linked(n1, "n2") and
                                 linked(n2, "n1"), 3.0))
        time.sleep(1.0)       # five beacon intervals of n3 and n4
        for b in (n1, n2):
            self.assertEqual(set(nodes_of(b)), {"n1", "n2"})
            st = stats_of(b)
            self.assertGreater(st["beacons_rejected_mac"], 0, st)
            self.assertGreater(st["beacons_other_cluster"], 0, st)
            self.assertGreater(st["link_handshakes_ok"], 0, st)
        self.assertEqual(set(nodes_of(n3)), {"n3"})
        self.assertEqual(set(nodes_of(n4)), {"n4"})

    def test_replayed_beacon_changes_nothing(self):
        group, port = "239.255.77.12", 17522
        g = "%s:%d" % (group, port)
        sock = mcast_socket(group, port)
        self.addCleanup(sock.close)
        n1 = self.start(conf("n1", 17505, self.key, g), "n1")
        n2 = self.start(conf("n2", 17506, self.key, g), "n2")
        self.assertTrue(wait_for(lambda: linked(n1, "n2"), 3.0))
        while True:
            data, _ = sock.recvfrom(2048)
            if b"\xa2n2" in data:
                break
        time.sleep(0.5)       # newer beacons of n2 have been accepted
        before = nodes_of(n1)["n2"]
        rej0 = stats_of(n1)["beacons_rejected_replay"]
        for _ in range(3):
            sock.sendto(data, (group, port))
        self.assertTrue(wait_for(lambda: stats_of(n1)
                                 ["beacons_rejected_replay"] >= rej0 + 3,
                                 3.0), stats_of(n1))
        after = nodes_of(n1)["n2"]
        self.assertEqual(after["incarnation"], before["incarnation"])
        self.assertEqual(after["state"], "alive")
        self.assertTrue(linked(n1, "n2"))


class TestTamper(SecTest):
    def test_flipped_byte_resets_link_and_reaches_no_actor(self):
        g = "239.255.77.13:17523"
        proxy = FlipProxy(17509, 17508)
        self.addCleanup(proxy.close)
        n1 = self.start(conf("n1", 17507, self.key, g), "n1")
        # n2 tells the cluster to reach it through the proxy
        n2 = self.start(conf("n2", 17508, self.key, g,
                             "advertise = tcp://127.0.0.1:17509\n"), "n2")
        self.assertTrue(wait_for(lambda: linked(n1, "n2") and
                                 linked(n2, "n1"), 3.0))
        pad = "x" * 600
        ok = 0
        for i in range(3):
            body = json.dumps({"i": i, "pad": pad})
            r = n1.cli("ask", "echo@n2", body)
            self.assertEqual(json.loads(r.stdout), json.loads(body))
            ok += 1
        proxy.arm.set()
        r = n1.cli("ask", "echo@n2", json.dumps({"i": 99, "pad": pad}),
                   "--timeout", "5s", check=False)
        self.assertTrue(proxy.flipped.is_set())
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertTrue(wait_for(lambda: stats_of(n2)
                                 ["link_frames_tampered"] >= 1, 3.0))
        self.assertTrue(wait_for(lambda: linked(n1, "n2") and
                                 linked(n2, "n1"), 5.0),
                        (nodes_of(n1), nodes_of(n2)))
        for i in range(3, 6):
            body = json.dumps({"i": i, "pad": pad})
            r = n1.cli("ask", "echo@n2", body)
            self.assertEqual(json.loads(r.stdout), json.loads(body))
            ok += 1
        echo = json.loads(n2.cli("inspect", "echo", "--json").stdout)
        self.assertEqual(echo["received"], ok)
        self.assertIn("peer frame rejected", n2.logtext())


class TestKeyFile(SecTest):
    def test_loose_key_file_refused_with_one_line(self):
        os.chmod(self.key, 0o644)
        b = Broker(conf("n1", 17510, self.key, "239.255.77.14:17524"), (),
                   "n1")
        self.addCleanup(b.cleanup)
        self.assertEqual(b.proc.wait(10), 1)
        errors = [ln for ln in b.logtext().splitlines()
                  if "level=error" in ln]
        self.assertEqual(len(errors), 1, b.logtext())
        self.assertIn("cluster key", errors[0])
        self.assertIn("0644", errors[0])


if __name__ == "__main__":
    unittest.main()
