"""A stranger on a mailbox socket is the socket's business, not the actor's
(issue 12, finding 3), and the CLI pointed at a socket that is not a
broker's control socket says so in one line within its timeout, exit 69.

Strangers here speak nng's SP handshake by hand over AF_UNIX (8 bytes:
0x00 'S' 'P' 0x00, protocol id, 0): req0 is what a CLI given the wrong
path sends, pair1 is the actor's own protocol, so only the gate's pid
check stands between it and the mailbox."""
import json
import os
import socket
import struct
import threading
import time
import unittest

from troupetest import BrokerTest, wait_for

PROTO = {"pair1": 0x11, "req0": 0x30, "pub0": 0x20, "sub0": 0x21}


def sp_connect(path, proto, timeout=2.0):
    """An AF_UNIX connection that has done nng's SP handshake as proto;
    returns (socket, the peer's protocol id) or (socket, None)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(b"\x00SP\x00" + struct.pack(">HH", PROTO[proto], 0))
    try:
        hdr = s.recv(8)
    except OSError:
        hdr = b""
    peer = struct.unpack(">H", hdr[4:6])[0] if len(hdr) == 8 else None
    return s, peer


def sp_frame(payload):
    return b"\x01" + struct.pack(">Q", len(payload)) + payload


class MailboxStrangerTest(BrokerTest):
    def setUp(self):
        self.b = self.start()
        self.before = self.b.actors()
        self.mbx = os.path.join(self.b.run_dir, "mbx")

    def assert_undisturbed(self):
        after = self.b.actors()
        for name, a in self.before.items():
            self.assertEqual(after[name]["pid"], a["pid"], name)
            self.assertEqual(after[name]["restarts"], 0, name)
            self.assertEqual(after[name]["state"], "running", name)
        r = self.b.cli("ask", "echo", '{"still":"here"}', "--timeout", "5s")
        self.assertEqual(r.stdout.strip(), '{"still":"here"}')

    def refused(self):
        return json.loads(self.b.cli("stats", "--json").stdout)[
            "refused_mailbox"]

    def test_cli_on_mailbox_socket_twenty_times(self):
        """Finding 3 as reported: 20 CLIs given the echo mailbox's path.
        On the old code echo restarted and its group gave up."""
        url = "ipc://" + os.path.join(self.mbx, "echo.sock")
        for _ in range(20):
            t0 = time.monotonic()
            r = self.b.cli("--broker", url, "stats", "--timeout", "200ms",
                           check=False)
            took = time.monotonic() - t0
            self.assertEqual(r.returncode, 69, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1,
                             r.stderr)
            self.assertIn("not a troupe socket", r.stderr)
            self.assertLess(took, 2.0)
        time.sleep(0.5)    # a link event would have been handled by now
        self.assert_undisturbed()
        self.assertGreaterEqual(self.refused(), 20)
        self.assertNotIn("mailbox link dropped", self.b.logtext())

    def test_pair1_stranger_bytes_and_drop_on_every_mailbox(self):
        n0 = self.refused()
        socks = sorted(os.listdir(self.mbx))
        self.assertGreaterEqual(len(socks), 4, socks)
        for name in socks:
            path = os.path.join(self.mbx, name)
            for proto in ("pair1", "req0", "sub0"):
                s, _ = sp_connect(path, proto)
                try:
                    s.sendall(sp_frame(b"\xdd\xff\xff\xff\xff") +
                              sp_frame(b"\x93\x01\x02"))
                except OSError:
                    pass    # closed on us: that is the point
                s.close()
            raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            raw.connect(path)
            raw.sendall(b"GET / HTTP/1.1\r\n\r\n" + os.urandom(512))
            raw.close()
        time.sleep(0.5)
        self.assert_undisturbed()
        self.assertGreaterEqual(self.refused() - n0, 3 * len(socks))

    def test_stranger_holding_the_socket_cannot_take_the_actors_slot(self):
        """A pair1 stranger connected while the actor restarts: the new
        instance still gets its mailbox (pair1 admits one pipe)."""
        path = os.path.join(self.mbx, "echo.sock")
        held = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    s, _ = sp_connect(path, "pair1", timeout=0.5)
                    held.append(s)
                except OSError:
                    time.sleep(0.01)
                if len(held) > 50:
                    held.pop(0).close()

        t = threading.Thread(target=hammer)
        t.start()
        try:
            os.kill(self.before["echo"]["pid"], 9)
            self.assertTrue(wait_for(
                lambda: self.b.actors()["echo"]["pid"] not in
                (0, self.before["echo"]["pid"]) and
                self.b.actors()["echo"]["state"] == "running", 10))
            r = self.b.cli("ask", "echo", '"after"', "--timeout", "5s")
            self.assertEqual(r.stdout.strip(), '"after"')
            # on a loaded machine the strangers may not have got a
            # connect in yet: they keep trying until one is refused
            wait_for(lambda: self.refused() > 0, 15)
        finally:
            stop.set()
            t.join()
            for s in held:
                s.close()
        a = self.b.actors()["echo"]
        self.assertEqual(a["restarts"], 1, a)
        self.assertGreater(self.refused(), 0)


class CliWrongSocketTest(BrokerTest):
    """The CLI given a path that is not a control socket: one line, exit
    69, within its timeout; never the generic timeout."""

    def setUp(self):
        self.b = self.start()

    def cli_at(self, url, timeout="300ms"):
        t0 = time.monotonic()
        r = self.b.cli("--broker", url, "actors", "--timeout", timeout,
                       check=False)
        return r, time.monotonic() - t0

    def check(self, url, words):
        r, took = self.cli_at(url)
        self.assertEqual(r.returncode, 69, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(words, lines[0])
        self.assertLess(took, 1.5, "300ms timeout took %.2fs" % took)

    def test_tap_socket(self):
        self.check("ipc://" + os.path.join(self.b.run_dir, "tap.sock"),
                   "another nng protocol")

    def test_regular_file_and_missing_path(self):
        self.check("ipc://" + self.b.log_path, "not a socket")
        self.check("ipc://" + os.path.join(self.b.dir, "nope.sock"),
                   "No such file")

    def serve(self, path, greet):
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(64)
        srv.settimeout(0.1)
        conns, stop = [], threading.Event()

        def loop():
            while not stop.is_set():
                try:
                    c, _ = srv.accept()
                except OSError:
                    continue
                conns.append(c)
                if greet:
                    c.sendall(greet)

        t = threading.Thread(target=loop)
        t.start()

        def done():
            stop.set()
            t.join()
            for c in conns:
                c.close()
            srv.close()
        self.addCleanup(done)

    def test_silent_and_garbage_servers(self):
        silent = os.path.join(self.b.dir, "silent.sock")
        garbage = os.path.join(self.b.dir, "garbage.sock")
        self.serve(silent, None)
        self.serve(garbage, b"HTTP/1.1 400 Bad Request\r\n\r\n")
        self.check("ipc://" + silent, "no nng handshake")
        self.check("ipc://" + garbage, "does not speak nng")

    def test_real_control_socket_still_answers(self):
        r, _ = self.cli_at("ipc://" + os.path.join(self.b.run_dir,
                                                   "ctl.sock"))
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
