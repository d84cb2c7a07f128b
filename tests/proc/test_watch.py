"""Step 6: `troupe watch` shows routed messages live, filtered by actor."""
import json
import os
import selectors
import signal
import subprocess
import time

from troupetest import BrokerTest, binpath


class Watcher:
    """`troupe watch ARGS` as a subprocess; lines read with a deadline."""

    def __init__(self, broker, *args):
        self.proc = subprocess.Popen([binpath("troupe"), "watch"] +
                                     list(args), env=broker.env,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        self.sel.register(self.proc.stderr, selectors.EVENT_READ)
        # bytes read but not yet a whole line, per stream: a buffered
        # readline would hide a second line from select()
        self.buf = {self.proc.stdout: b"", self.proc.stderr: b""}

    def wait_ready(self, timeout=10.0):
        line = self._line(self.proc.stderr, timeout)
        if "watching" not in line:
            raise AssertionError("watch did not start: %r" % line)

    def _line(self, stream, timeout):
        deadline = time.time() + timeout
        while True:
            if b"\n" in self.buf[stream]:
                line, self.buf[stream] = self.buf[stream].split(b"\n", 1)
                return line.decode() + "\n"
            if time.time() >= deadline:
                return ""
            for key, _ in self.sel.select(deadline - time.time()):
                data = os.read(key.fileobj.fileno(), 65536)
                if not data:
                    self.sel.unregister(key.fileobj)
                self.buf[key.fileobj] += data
            if self.proc.poll() is not None and not self.sel.get_map():
                return ""

    def lines_until(self, pred, timeout=10.0):
        """stdout lines read until one satisfies pred (that one last)."""
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self._line(self.proc.stdout, deadline - time.time())
            if line:
                got.append(line.rstrip("\n"))
                if pred(got[-1]):
                    return got
        raise AssertionError("no matching watch line in %r" % got)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class TestWatch(BrokerTest):
    def watch(self, b, *args):
        w = Watcher(b, *args)
        self.addCleanup(w.stop)
        w.wait_ready()
        return w

    def test_watch_shows_a_message_sent_from_another_cli(self):
        b = self.start()
        w = self.watch(b, "echo")
        b.cli("send", "echo", '{"hello":"watch"}')
        got = w.lines_until(lambda l: "hello" in l)
        line = got[-1]
        self.assertRegex(line, r"^send cli@\S+ -> echo id=\d+ size=\d+ "
                               r'body=\{"hello":"watch"\}$')

    def test_filter_by_actor_hides_other_actors(self):
        b = self.start()
        w = self.watch(b, "counter")
        b.cli("send", "echo", '"not-this"')
        b.cli("send", "counter", '{"n":1}')
        got = w.lines_until(lambda l: '"n":1' in l)
        self.assertTrue(all("not-this" not in l for l in got), got)
        self.assertIn("-> counter", got[-1])

    def test_json_lines_and_asks(self):
        b = self.start()
        w = self.watch(b, "--json")
        b.cli("ask", "echo", '[1,2,3]')
        got = w.lines_until(lambda l: '"ask"' in l)
        rec = json.loads(got[-1])
        self.assertEqual(rec["kind"], "ask")
        self.assertEqual(rec["to"], "echo")
        self.assertEqual(rec["body"], [1, 2, 3])
        self.assertEqual(rec["node"], "t1")
        self.assertFalse(rec["truncated"])

    def test_pool_deliveries_and_topic_fanout(self):
        b = self.start("[node]\nname = t1\n\n[actor w]\nexec = troupe-sink\n"
                       "instances = 2\nsubscribe = jobs.*\n\n"
                       "[actor c]\nexec = troupe-counter\n"
                       "subscribe = jobs.>\n")
        w = self.watch(b)
        b.cli("send", "w", '{"k":1}')
        got = w.lines_until(lambda l: l.startswith("deliver"))
        self.assertRegex(got[-1], r"^deliver cli@t1 -> w via w#[01] id=")
        b.cli("publish", "jobs.a", '{"k":2}')
        got = w.lines_until(lambda l: l.startswith("publish"))
        self.assertRegex(got[-1], r"^publish cli@t1 -> jobs.a fanout=2 ")
        # the pool's copy reaches one instance
        got = w.lines_until(lambda l: l.startswith("deliver") and
                            '"k":2' in l)
        j = self.watch(b, "--json", "w#1")
        for k in range(8):
            b.cli("send", "w", '{"k":%d}' % (10 + k))
        rec = json.loads(j.lines_until(lambda l: '"deliver"' in l)[-1])
        self.assertEqual((rec["kind"], rec["via"], rec["to"]),
                         ("deliver", "w#1", "w"))

    def test_large_body_is_not_copied(self):
        b = self.start()
        w = self.watch(b, "echo")
        b.cli("send", "echo", json.dumps("x" * 5000))
        got = w.lines_until(lambda l: "-> echo" in l)
        self.assertTrue(got[-1].endswith("body=<5003 bytes>"), got[-1])

    def test_other_node_is_refused(self):
        b = self.start()
        r = b.cli("watch", "--node", "elsewhere", check=False, timeout=20)
        self.assertEqual(r.returncode, 69)
        self.assertIn("elsewhere", r.stderr)

    def test_no_records_without_a_watcher(self):
        b = self.start()
        b.cli("send", "echo", "1")
        w = self.watch(b)
        w.stop()
        deadline = time.time() + 10
        # the lease runs out (3 s) and the broker stops encoding
        while "watcher lease expired" not in b.logtext():
            b.cli("send", "echo", "2")
            self.assertLess(time.time(), deadline, b.logtext())
            time.sleep(0.2)
